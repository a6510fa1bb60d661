import { randomUUID } from 'node:crypto';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
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
    try {
      // A new file renamed into place: a link planted at the owner file's name is replaced, never written through.
      const temp = `${ownerPath}.tmp-${randomUUID()}`;
      await writeFile(temp, JSON.stringify(owner), { flag: 'wx' });
      await rename(temp, ownerPath);
    } catch (e) {
      await release();
      throw e;
    }
    return async () => {
      await rm(ownerPath, { force: true });
      await release();
    };
  };
  const readOwner = (): Promise<LockOwner | undefined> =>
    readFile(ownerPath, 'utf8')
      .then((t) => JSON.parse(t) as LockOwner)
      .catch(() => undefined);
  const locked = (
    owner: LockOwner | undefined,
    detail = 'another run is in progress for this account',
  ): Error => {
    const who = owner ? `pid ${owner.pid} on ${owner.host}, since ${owner.since}` : 'owner unknown';
    return new RunLockedError(`${detail} (${who}); lock: ${lockPath}`);
  };
  const takeOrLocked = async (): Promise<() => Promise<void>> => {
    try {
      return await take();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ELOCKED') throw locked(await readOwner());
      throw e;
    }
  };
  try {
    return await take();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ELOCKED') throw e;
  }
  const owner = await readOwner();
  if (!owner || owner.host !== hostname() || alive(owner.pid)) throw locked(owner);
  // The holder died without releasing (SIGKILL, power loss). Several runs may see that at once: only the one that
  // creates the takeover claim (O_EXCL) may remove the dead lock, and it checks the owner again under the claim, so
  // a lock another run has just taken over is never removed. The others exit as locked.
  const claimPath = `${target}.takeover`;
  if (!(await claim(claimPath))) throw locked(owner, 'another run is taking over the lock of a dead run');
  try {
    const current = await readOwner();
    if (current === undefined || alive(current.pid)) throw locked(current);
    await rm(lockPath, { recursive: true, force: true });
    return await takeOrLocked();
  } finally {
    await rm(claimPath, { force: true });
  }
}

/** A takeover claim left by a run killed while taking over (it takes milliseconds) is void after this long. */
const CLAIM_STALE_MS = 60_000;

/** Creates the takeover claim, or says another run holds it. */
async function claim(path: string, retry = true): Promise<boolean> {
  try {
    await writeFile(path, String(process.pid), { flag: 'wx' });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  // File times are the system's: this age is real time, whatever clock the run uses.
  const age = await stat(path).then(
    (s) => Date.now() - s.mtimeMs,
    () => 0,
  );
  if (!retry || age < CLAIM_STALE_MS) return false;
  await rm(path, { force: true });
  return claim(path, false);
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
