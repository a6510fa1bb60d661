import { spawn } from 'node:child_process';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/export-options.js';
import { REPO_ROOT } from '../helpers/run-cli.js';

/**
 * One racer: waits for the common start time, takes the lock, and holds it until the test says so (the release file
 * appears), so that a racer started late by a loaded machine still meets the held lock. Exit 0 won, 5 locked.
 */
const RACER = `
import { existsSync } from 'node:fs';
const { acquireRunLock, RunLockedError } = await import(process.argv[1]);
const [target, goAt, releaseFile] = [process.argv[2], Number(process.argv[3]), process.argv[4]];
await new Promise((r) => setTimeout(r, Math.max(0, goAt - Date.now())));
try {
  const release = await acquireRunLock(target, Date.now);
  while (!existsSync(releaseFile)) await new Promise((r) => setTimeout(r, 20));
  await release();
  process.exit(0);
} catch (e) {
  if (e instanceof RunLockedError) process.exit(5);
  console.error(e);
  process.exit(1);
}
`;

function race(target: string, goAt: number, releaseFile: string): Promise<number | null> {
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      RACER,
      join(REPO_ROOT, 'dist/src/state/run-lock.js'),
      target,
      String(goAt),
      releaseFile,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  return new Promise((resolve) => child.on('close', resolve));
}

/** A pid that no process has any more. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  const pid = child.pid!;
  await new Promise((r) => child.on('close', r));
  return pid;
}

describe('the run lock after a crash', () => {
  it(
    "20 races of 4 runs against a dead run's lock: exactly one runs each time, the rest exit 5",
    { timeout: 240_000 },
    async () => {
      const dead = await deadPid();
      for (let trial = 0; trial < 20; trial++) {
        const state = await tempDir();
        const target = join(state, 'account=1');
        // What a run killed with SIGKILL leaves: the lock folder and its owner file.
        await mkdir(`${target}.lock`);
        await writeFile(
          `${target}.owner.json`,
          JSON.stringify({ pid: dead, host: hostname(), since: new Date().toISOString() }),
        );
        const goAt = Date.now() + 600;
        const releaseFile = join(state, 'release');
        const ended: Array<number | null> = [];
        const racers = [0, 1, 2, 3].map(() =>
          race(target, goAt, releaseFile).then((code) => {
            ended.push(code);
            return code;
          }),
        );
        // Whoever holds the lock keeps it until three racers have ended (or 20 s passed: then two held it at once).
        for (let waited = 0; ended.length < 3 && waited < 20_000; waited += 20)
          await new Promise((r) => setTimeout(r, 20));
        await writeFile(releaseFile, '');
        const codes = await Promise.all(racers);
        expect(codes.sort(), `trial ${trial}`).toEqual([0, 5, 5, 5]);
        await rm(releaseFile);
        // Nothing of the takeover is left behind.
        expect((await readdir(state)).filter((f) => f !== 'account=1.lock')).toEqual([]);
      }
    },
  );
});
