import { readFile, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { hostname } from 'node:os';
import lockfile from 'proper-lockfile';
import { ensureDirSync } from '../output-path.js';

/** Another run holds the account's lock (exit code 5). */
export class RunLockedError extends Error {
  override name = 'RunLockedError';
}

interface LockOwner {
  pid: number;
  host: string;
  since: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One run at a time per account: a proper-lockfile lock (a directory, refreshed while the run lives; stale after
 * `staleMs` without refresh) plus an owner file naming the pid, host and start, so contention says who holds it and a
 * lock left by a dead process on this host is taken over at once instead of after the stale period.
 */
export async function acquireRunLock(
  target: string,
  now: () => number,
  staleMs = 30_000,
  onCompromised: (e: Error) => void = () => undefined,
): Promise<() => Promise<void>> {
  const lockPath = `${target}.lock`;
  const ownerPath = `${target}.owner.json`;
  const options = { realpath: false, stale: staleMs, lockfilePath: lockPath, onCompromised };
  ensureDirSync(dirname(target));
  const take = async (): Promise<() => Promise<void>> => {
    const release = await lockfile.lock(target, options);
    const owner: LockOwner = { pid: process.pid, host: hostname(), since: new Date(now()).toISOString() };
    await writeFile(ownerPath, JSON.stringify(owner));
    return async () => {
      await rm(ownerPath, { force: true });
      await release();
    };
  };
  try {
    return await take();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ELOCKED') throw e;
    const owner = await readFile(ownerPath, 'utf8')
      .then((t) => JSON.parse(t) as LockOwner)
      .catch(() => undefined);
    if (owner && owner.host === hostname() && !alive(owner.pid)) {
      // The holder died without releasing (SIGKILL, power loss): the lock is stale, take it over.
      await rm(lockPath, { recursive: true, force: true });
      return take();
    }
    const who = owner ? `pid ${owner.pid} on ${owner.host}, since ${owner.since}` : 'owner unknown';
    throw new RunLockedError(`another run is in progress for this account (${who}); lock: ${lockPath}`);
  }
}

/** Runs `fn` while holding the lock on `target` (the same lock an export of the account takes). */
export async function withRunLock<T>(target: string, now: () => number, fn: () => Promise<T>): Promise<T> {
  const release = await acquireRunLock(target, now);
  try {
    return await fn();
  } finally {
    await release();
  }
}
