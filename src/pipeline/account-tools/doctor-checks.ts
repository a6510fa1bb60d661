import { randomUUID } from 'node:crypto';
import { rm, rmdir, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../../clock.js';
import { GraphClient } from '../../graph/client.js';
import { ConversationsApi } from '../../graph/conversations-api.js';
import type { Logger } from '../../logger.js';
import { ensureDirSync } from '../../output-path.js';
import { withRunLock } from '../../state/run-lock.js';
import { tokenLifetime } from '../../state/token-lifetimes.js';
import type { ExportOptions } from '../run-export.js';
import { accountLockDir } from '../../snapshots/layout.js';
import { expiryWarning } from './token-lifecycle.js';

/** One check's verdict: `error` is what failed (the CLI turns it into the documented exit code and advice). */
export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
  error?: unknown;
}

/** Below this much free space in the output directory, the check fails: a long export would not fit. */
const MIN_FREE_BYTES = 200_000_000;

const gb = (bytes: number): string => `${(bytes / 1e9).toFixed(1)} GB`;

/**
 * A directory exists (or can be made) and takes a file: its free space, and whether it exists yet. A folder doctor
 * had to make to find out is removed again (a mistyped --output leaves nothing behind; the export makes it).
 */
async function writable(dir: string): Promise<{ free: number; exists: boolean }> {
  const created = ensureDirSync(dir);
  try {
    const probe = join(dir, `.ig-export-doctor-${randomUUID()}`);
    await writeFile(probe, 'ok', { flag: 'wx' });
    await rm(probe, { force: true });
    const fs = await statfs(dir);
    return { free: fs.bavail * fs.bsize, exists: created.length === 0 };
  } finally {
    // Innermost first, and only if still empty: never a folder something else has written into meanwhile.
    for (const made of created.reverse()) await rmdir(made).catch(() => undefined);
  }
}

const whereTo = (dir: string, exists: boolean): string =>
  exists ? `${dir} is writable` : `${dir} does not exist yet and can be created`;

/**
 * `ig-export doctor`: what an export needs, checked in order with two API calls at most (the account, then a
 * one-item conversations page for the messaging permission): the token, the account, the permission, the output
 * and state directories, the account's lock, and the token's recorded expiry.
 */
export async function doctorChecks(
  options: ExportOptions,
  deps: { clock: Clock; random: () => number; logger: Logger },
): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const check = async (name: string, fn: () => Promise<string>): Promise<boolean> => {
    try {
      checks.push({ name, ok: true, detail: await fn() });
      return true;
    } catch (error) {
      checks.push({ name, ok: false, detail: (error as Error).message, error });
      return false;
    }
  };
  const client = new GraphClient({
    ...options.client,
    retries: Math.min(options.client.retries, 2),
    ...deps,
  });
  const api = new ConversationsApi(client, 1);
  let accountId: string | undefined;
  const tokenOk = await check('token and account', async () => {
    const account = await api.resolveAccount(options.run.account);
    accountId = account.id;
    return `the token reads account ${account.id}${account.username ? ` (@${account.username})` : ''}`;
  });
  if (tokenOk) {
    await check('messaging permission', async () => {
      for await (const page of api.conversations(options.run.account)) {
        return `conversations can be listed (${page.items.length > 0 ? 'at least one' : 'none yet'})`;
      }
      return 'conversations can be listed';
    });
  }
  await check('output directory', async () => {
    const { free, exists } = await writable(options.run.outputRoot);
    if (free < MIN_FREE_BYTES)
      throw new Error(
        `${options.run.outputRoot} has only ${gb(free)} free; free some space or choose another --output`,
      );
    return `${whereTo(options.run.outputRoot, exists)}, ${gb(free)} free`;
  });
  let stateExists = true;
  await check('state directory', async () => {
    const { exists } = await writable(options.run.stateDir);
    stateExists = exists;
    return whereTo(options.run.stateDir, exists);
  });
  if (accountId !== undefined) {
    const id = accountId;
    await check('run lock', async () => {
      // Every run takes its lock inside the state directory: without one, no run can hold it (and none is made).
      if (!stateExists)
        return `no other run holds account ${id} (no run has used ${options.run.stateDir} yet)`;
      await withRunLock(
        accountLockDir(options.run.stateDir, id),
        () => deps.clock.now(),
        () => Promise.resolve(),
      );
      return `no other run holds account ${id}`;
    });
  }
  await check('token expiry', async () => {
    const lifetime = await tokenLifetime(options.run.stateDir, options.client.token);
    const warning = expiryWarning(lifetime, deps.clock.now());
    if (warning) throw new TokenExpiringError(warning);
    return lifetime?.expiresMs === undefined
      ? 'not known yet (it is learnt at the first refresh: ig-export token refresh, or --auto-refresh)'
      : `expires at ${new Date(lifetime.expiresMs).toISOString()}`;
  });
  return checks;
}

/** The recorded expiry is near or past. */
export class TokenExpiringError extends Error {
  override name = 'TokenExpiringError';
}
