import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { acquireRunLock, processAlive } from '../../src/state/run-lock.js';
import { tempDir } from '../helpers/export-options.js';

const state = (pid: number): string | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
};

/**
 * A real zombie: `sleep 0.5` ends as the child of a shell that has become `sleep 60` by then (exec), which never
 * reaps it: as a run killed with SIGKILL stays under a container's PID 1 that does not reap. Its holder is killed when
 * the test ends.
 */
async function zombie(): Promise<number> {
  const holder = spawn('sh', ['-c', 'sleep 0.5 & echo $!; exec sleep 60'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  onTestFinished(() => void holder.kill('SIGKILL'));
  const pid = await new Promise<number>((resolve) =>
    holder.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))),
  );
  // A real process's state: awaited, not assumed.
  for (let s = state(pid); s !== 'Z'; s = state(pid)) {
    if (s === undefined) throw new Error(`process ${pid} was reaped before it could be seen as a zombie`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return pid;
}

describe.runIf(existsSync('/proc/self/stat'))('the run lock and a dead holder that was not reaped', () => {
  it('counts a zombie as dead, and a living process as alive', async () => {
    expect(processAlive(process.pid)).toBe(true);
    const pid = await zombie();
    expect(() => process.kill(pid, 0)).not.toThrow(); // what alone used to decide it
    expect(processAlive(pid)).toBe(false);
  });

  it("takes over at once a lock whose owner is a zombie, instead of after the lock's stale period", async () => {
    const pid = await zombie();
    const target = join(await tempDir(), 'account=1');
    // What a run killed with SIGKILL leaves: the lock folder (fresh) and its owner file.
    await mkdir(`${target}.lock`);
    await writeFile(
      `${target}.owner.json`,
      JSON.stringify({ pid, host: hostname(), since: new Date().toISOString() }),
    );
    const release = await acquireRunLock(target, Date.now);
    await release();
  });
});
