import { createHash } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureDirSync } from '../output-path.js';

/**
 * Which account a token belongs to, remembered in the state directory so that a run with `--account me` can take
 * the account's lock before making any call. Tokens are stored as a truncated SHA-256, never as themselves: the
 * file tells which token-digest maps to which account id and nothing else.
 */
const FILE = 'token-accounts.json';

export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 24);
}

async function load(stateDir: string): Promise<Record<string, string>> {
  try {
    const parsed = JSON.parse(await readFile(join(stateDir, FILE), 'utf8')) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, string>) : {};
  } catch {
    return {}; // missing or unreadable: the run resolves the account with one call, as on a first run
  }
}

export async function accountForToken(stateDir: string, token: string): Promise<string | undefined> {
  return (await load(stateDir))[tokenDigest(token)];
}

export async function rememberAccountForToken(
  stateDir: string,
  token: string,
  accountId: string,
): Promise<void> {
  const all = await load(stateDir);
  const key = tokenDigest(token);
  if (all[key] === accountId) return;
  all[key] = accountId;
  ensureDirSync(stateDir);
  const tmp = join(stateDir, `.${FILE}.tmp-${process.pid}`);
  await writeFile(tmp, `${JSON.stringify(all, null, 2)}\n`);
  await rename(tmp, join(stateDir, FILE));
}
