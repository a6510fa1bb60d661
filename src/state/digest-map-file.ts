import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { ensureDirSync } from '../output-path.js';

/**
 * A small JSON object kept in the state directory, keyed by token digest (token-accounts.json,
 * token-lifetimes.json). Several runs may update it at once — the accounts of one fleet run in this process, or
 * cron jobs of other accounts sharing the state directory — so every update is a read-modify-write done under a
 * lock (in this process: one queue per file; across processes: a proper-lockfile lock), written to a temporary
 * file of its own and renamed into place. A file that is missing or unreadable reads as empty: what it holds are
 * hints that one API call can rebuild.
 */
const queues = new Map<string, Promise<unknown>>();

async function load(path: string): Promise<Record<string, unknown>> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as unknown;
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

export async function readDigestMap(stateDir: string, file: string): Promise<Record<string, unknown>> {
  return load(join(stateDir, file));
}

/**
 * Sets `key` to what `update` makes of its current value; `undefined` leaves the file as it is. Returns the value
 * the key holds afterwards.
 */
export async function updateDigestMap(
  stateDir: string,
  file: string,
  key: string,
  update: (current: unknown) => unknown,
): Promise<unknown> {
  const path = join(stateDir, file);
  const previous = queues.get(path) ?? Promise.resolve();
  const next = previous
    .catch(() => undefined)
    .then(async () => {
      ensureDirSync(stateDir);
      const release = await lockfile.lock(path, {
        realpath: false,
        stale: 10_000,
        retries: { retries: 20, minTimeout: 20, maxTimeout: 500 },
      });
      try {
        const all = await load(path);
        const value = update(all[key]);
        if (value === undefined) return all[key];
        all[key] = value;
        const tmp = join(stateDir, `.${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
        await writeFile(tmp, `${JSON.stringify(all, null, 2)}\n`, { flag: 'wx' });
        await rename(tmp, path);
        return value;
      } finally {
        await release();
      }
    });
  queues.set(path, next);
  try {
    return await next;
  } finally {
    if (queues.get(path) === next) queues.delete(path);
  }
}
