import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/export-options.js';
import { REPO_ROOT } from '../helpers/run-cli.js';
import { startSandbox, TEST_TOKEN } from '../helpers/sandbox-fixture.js';

/** Processes whose command line holds `marker` (a unique output folder), other than ps and grep. */
function processesWith(marker: string): string[] {
  return execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(marker) && !/\bps -eo\b/.test(l));
}

async function noneLeft(marker: string): Promise<string[]> {
  for (let i = 0; i < 40; i++) {
    const left = processesWith(marker);
    if (left.length === 0) return [];
    await new Promise((r) => setTimeout(r, 250));
  }
  return processesWith(marker);
}

/** Runs `command` in a shell from the clone, as a user would type it; resolves when the shell exits. */
function shell(command: string, env: Record<string, string>): { pid: number; done: Promise<number | null> } {
  const child = spawn('sh', ['-c', command], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: 'ignore',
  });
  return { pid: child.pid!, done: new Promise((resolve) => child.on('close', resolve)) };
}

describe('a signal to npx reaches ig-export', () => {
  it('timeout 3 npx ig-export listen … leaves no ig-export process behind', async () => {
    const out = join(await tempDir(), 'npx-listen-marker');
    const run = shell(`timeout 3 npx ig-export listen --port 0 --output ${out}`, {
      IG_APP_SECRET: 'an-app-secret-for-tests',
      IG_WEBHOOK_VERIFY_TOKEN: 'a-verify-token-for-tests',
    });
    await run.done;
    expect(await noneLeft(out)).toEqual([]);
  });

  it('killing a backgrounded npx ig-export listen (npx alone, not its process group) stops the listener', async () => {
    const out = join(await tempDir(), 'npx-listen-kill-marker');
    const run = shell(`exec npx ig-export listen --port 0 --output ${out}`, {
      IG_APP_SECRET: 'an-app-secret-for-tests',
      IG_WEBHOOK_VERIFY_TOKEN: 'a-verify-token-for-tests',
    });
    // Until ig-export itself runs (npx → sh → node …/ig-export listen). npx is a node process too, shown as
    // `node /usr/bin/npx ig-export listen …` until npm renames it: only a path ending in ig-export is ig-export.
    const running = (): boolean => processesWith(out).some((l) => /node \S*ig-export listen/.test(l));
    // npx may first install the project into its cache: slow on a loaded machine, so wait up to a minute.
    for (let i = 0; i < 600 && !running(); i++) await new Promise((r) => setTimeout(r, 100));
    expect(running()).toBe(true);
    process.kill(run.pid, 'SIGTERM');
    await run.done;
    expect(await noneLeft(out)).toEqual([]);
  });

  it('killing a backgrounded npx ig-export export stops the export too', async () => {
    // Slow enough to be still running when npx is killed: one call a second.
    const sandbox = await startSandbox({ seed: 4, conversations: 30, rateLimit: { callsPerSecond: 2 } });
    const out = join(await tempDir(), 'npx-export-marker');
    const run = shell(`exec npx ig-export export --base-url ${sandbox.url} --max-rps 1 --output ${out}`, {
      IG_ACCESS_TOKEN: TEST_TOKEN,
    });
    // npx may first install the project into its cache: slow on a loaded machine, so wait up to a minute.
    for (let i = 0; i < 600 && sandbox.stats.requests.length < 2; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(sandbox.stats.requests.length).toBeGreaterThanOrEqual(2);
    process.kill(run.pid, 'SIGTERM'); // the npx process itself (exec replaced the shell)
    await run.done;
    expect(await noneLeft(out)).toEqual([]);
  });
});
