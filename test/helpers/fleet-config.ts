import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SandboxFleet } from '../../src/sandbox/sandbox-fleet.js';

/** How the config names the n-th account (0-based) and the environment variable holding its token. */
export interface FleetNaming {
  name(i: number): string;
  tokenEnv(i: number): string;
}

/**
 * Writes `<dir>/fleet.json` for a sandbox fleet: every account by name and numeric id with its token variable, the
 * output under `<dir>/archive`, and `settings` (flag names as keys) for them all. Returns the file's path.
 */
export async function writeFleetConfig(
  dir: string,
  fleet: SandboxFleet,
  settings: Record<string, unknown>,
  naming: FleetNaming,
): Promise<string> {
  const path = join(dir, 'fleet.json');
  await writeFile(
    path,
    JSON.stringify({
      'base-url': fleet.url,
      output: join(dir, 'archive'),
      ...settings,
      accounts: fleet.accounts.map((s, i) => ({
        name: naming.name(i),
        account: s.data.account.userId,
        token_env: naming.tokenEnv(i),
      })),
    }),
  );
  return path;
}
