import { execFile } from 'node:child_process';
import { mkdtemp, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { onTestFinished } from 'vitest';

const run = promisify(execFile);

/**
 * A real small disk: a tmpfs of `sizeKiB` mounted on a new folder (needs root, as CI runs), unmounted when the test
 * ends. Undefined when this machine cannot mount one (the test then says it was skipped).
 */
export async function smallDisk(sizeKiB: number): Promise<string | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'ig-export-disk-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k`, 'tmpfs', dir]);
  } catch {
    await rm(dir, { recursive: true, force: true });
    return undefined;
  }
  onTestFinished(async () => {
    await run('umount', ['-l', dir]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Fills the disk holding `dir` until only `freeBytes` (rounded down to whole pages) are left. */
export async function leaveFree(dir: string, freeBytes: number): Promise<void> {
  const fs = await statfs(dir);
  const available = fs.bavail * fs.bsize;
  if (available <= freeBytes) return;
  await writeFile(join(dir, 'filler'), Buffer.alloc(available - freeBytes));
}

/** Makes the small disk read-only (as a full or failing disk is remounted by the kernel). */
export async function remountReadOnly(dir: string): Promise<void> {
  await run('mount', ['-o', 'remount,ro', dir]);
}
