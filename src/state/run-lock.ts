import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
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

/**
 * A process of this host with that pid runs (EPERM: it exists, owned by another user). A zombie does not: a run
 * killed with SIGKILL stays one until its parent reaps it, which PID 1 of a container may do late or never, and it
 * still answers signal 0. Linux tells its state in /proc; elsewhere the lock's staleness catches it.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

function isZombie(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // "pid (command) state …": the command may itself hold ")" or spaces.
  const state = stat[stat.lastIndexOf(')') + 2];
  return state === 'Z' || state === 'X';
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
    // A dead holder on this host is taken over by itself; one on another host cannot be checked from here.
    const elsewhere =
      owner && owner.host !== hostname() ? `; if no run is alive on ${owner.host}, remove ${lockPath}` : '';
    return new RunLockedError(
      `${detail} (${who}); lock: ${lockPath}. Wait for it to end (a scheduled run can skip this turn)${elsewhere}`,
    );
  };
  const takeOrLocked = async (): Promise<() => Promise<void>> => {
    try {
      return await take();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ELOCKED') throw locked(await readOwner());
      throw e;
    }
  };
  // Every acquisition happens under an exclusive claim (a file created with O_EXCL, held for milliseconds), so the
  // lock and its owner file are always seen together: a run that finds the lock held by a dead process (SIGKILL,
  // power loss) removes it and takes it without another run slipping in between, or removing the new holder's lock
  // before its owner file is written. Of several runs that find the dead lock at once, exactly one runs.
  const claimPath = `${target}.claim`;
  if (!(await claim(claimPath)))
    throw locked(await readOwner(), 'another run is taking this account lock right now');
  try {
    try {
      return await take();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ELOCKED') throw e;
    }
    const owner = await readOwner();
    if (!owner || owner.host !== hostname() || processAlive(owner.pid)) throw locked(owner);
    await rm(lockPath, { recursive: true, force: true });
    return await takeOrLocked();
  } finally {
    await rm(claimPath, { force: true });
  }
}

/** A claim left by a run killed while taking the lock (it takes milliseconds) is void after this long. */
const CLAIM_STALE_MS = 60_000;
/** How long a run waits for another's claim (held for milliseconds) before it reports the account as locked. */
const CLAIM_WAIT_MS = 5_000;

/** Creates the claim, waiting a moment while another run holds it; false when it stays taken. */
async function claim(path: string): Promise<boolean> {
  // File times and this wait are the system's real time, whatever clock the run uses.
  const deadline = Date.now() + CLAIM_WAIT_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(path, String(process.pid), { flag: 'wx' });
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const age = await stat(path).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    if (age >= CLAIM_STALE_MS) await rm(path, { force: true });
    else if (Date.now() >= deadline) return false;
    else await new Promise((r) => setTimeout(r, Math.min(50, 5 + attempt * 5)));
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
