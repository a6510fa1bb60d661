import { existsSync, readdirSync } from 'node:fs';
import { readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireRunLock } from '../../src/state/run-lock.js';
import type { Sandbox } from '../../src/sandbox/create-sandbox.js';
import { tempDir } from '../helpers/export-options.js';
import { freePort } from '../helpers/free-port.js';
import {
  callsToFinish,
  expectNoOrphanMessages,
  finishedConversations,
  snapshotDirs,
} from '../helpers/resume-calls.js';
import { exportArgs as sandboxExportArgs, runCli, spawnCli, type CliResult } from '../helpers/run-cli.js';
import { startSandbox, TEST_TOKEN } from '../helpers/sandbox-fixture.js';

const env = { IG_ACCESS_TOKEN: TEST_TOKEN };

/** Exactly one JSON line on stdout, whose exitCode is the process's; no stack trace; no token. */
function oneJsonLine(result: CliResult): Record<string, unknown> {
  const lines = result.stdout.split('\n').filter((l) => l !== '');
  expect(lines, result.stderr).toHaveLength(1);
  const summary = JSON.parse(lines[0]!) as Record<string, unknown>;
  expect(summary['exitCode']).toBe(result.code);
  expect(result.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  expect(result.stdout + result.stderr).not.toContain(TEST_TOKEN);
  return summary;
}

const exportArgs = (sandbox: Sandbox, out: string, ...more: string[]): string[] =>
  sandboxExportArgs(sandbox.url, out, ...more);

async function waitFor(condition: () => boolean, done: Promise<unknown>): Promise<void> {
  let finished = false;
  void done.then(() => (finished = true));
  while (!condition() && !finished) await new Promise((r) => setTimeout(r, 2));
}

describe('cron-grade behaviour (spawned CLI)', () => {
  it('every exit prints one JSON line with status, exitCode and the error, and no stack trace', async () => {
    const sandbox = await startSandbox({ seed: 81, conversations: 4 });
    const flaky = await startSandbox({
      seed: 82,
      conversations: 10,
      faults: { rates: { transient_500: 0.3 } },
    });
    const dir = await tempDir();
    await writeFile(join(dir, 'a-file'), 'not a directory');
    const cases: Array<{
      args: string[];
      env?: Record<string, string>;
      code: number;
      status: string;
      kind?: string;
    }> = [
      { args: exportArgs(sandbox, join(dir, 'ok')), env, code: 0, status: 'complete' },
      { args: ['export', '--max-rsp', '2', '--json'], env, code: 2, status: 'failed', kind: 'usage' },
      { args: ['export', '--json'], code: 2, status: 'failed', kind: 'usage' },
      { args: ['export', '--token', 'abc', '--json'], code: 2, status: 'failed', kind: 'usage' },
      {
        args: exportArgs(sandbox, join(dir, 'acct'), '--account', '123'),
        env,
        code: 2,
        status: 'failed',
        kind: 'account',
      },
      {
        args: exportArgs(sandbox, join(dir, 'tok')),
        env: { IG_ACCESS_TOKEN: 'IGAAwrong-token-0000' },
        code: 3,
        status: 'failed',
        kind: 'auth',
      },
      { args: exportArgs(flaky, join(dir, 'flaky'), '--retries', '0'), env, code: 4, status: 'partial' },
      {
        args: [
          ...exportArgs(sandbox, join(dir, 'net')),
          '--base-url',
          `http://127.0.0.1:${await freePort()}`,
          '--retries',
          '0',
        ],
        env,
        code: 7,
        status: 'failed',
        kind: 'network',
      },
      {
        args: exportArgs(sandbox, join(dir, 'a-file', 'out')),
        env,
        code: 8,
        status: 'failed',
        kind: 'filesystem',
      },
      {
        args: ['compact', '--output', join(dir, 'none'), '--json'],
        code: 2,
        status: 'failed',
        kind: 'usage',
      },
      {
        args: exportArgs(sandbox, join(dir, 'ok'), '--user-id', '999999999'),
        env,
        code: 2,
        status: 'failed',
        kind: 'user',
      },
    ];
    for (const c of cases) {
      const result = await runCli(c.args, c.env ? { env: c.env } : {});
      expect(result.code, `${c.args.join(' ')}\n${result.stderr}`).toBe(c.code);
      const summary = oneJsonLine(result);
      expect(summary['status']).toBe(c.status);
      if (c.kind) expect(summary['error']).toMatchObject({ kind: c.kind });
      // One line on stderr says what happened and what to do.
      if (c.status === 'failed') expect(result.stderr).toMatch(/^ig-export: .+/m);
    }
    // The messages a person acts on name the thing to fix.
    const net = await runCli(cases[7]!.args, { env });
    expect(net.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED/);
    const fs = await runCli(cases[8]!.args, { env });
    expect(fs.stderr).toMatch(/a-file.*ENOTDIR, a part of the path is a file/);
    const acct = await runCli(cases[4]!.args, { env });
    expect(acct.stderr).toMatch(/account 123 was not found.*--account me/);
    // The stack trace is there when asked for.
    const debug = await runCli([...cases[8]!.args, '--log-level', 'debug'], { env });
    expect(debug.stderr).toMatch(/\n\s+at .+:\d+:\d+/);
  });

  it('a second run while one holds the lock exits 5 at once, having made no call', async () => {
    const sandbox = await startSandbox({ seed: 83, conversations: 5 });
    const out = await tempDir();
    expect((await runCli(exportArgs(sandbox, out), { env })).code).toBe(0);
    const release = await acquireRunLock(join(out, '_state', `account=${sandbox.data.account.userId}`), () =>
      Date.now(),
    );
    try {
      sandbox.resetStats();
      const me = await runCli(exportArgs(sandbox, out), { env });
      expect(me.code).toBe(5);
      expect(oneJsonLine(me)).toMatchObject({ status: 'failed', error: { kind: 'locked' } });
      expect(me.stderr).toMatch(new RegExp(`another run is in progress .*pid ${process.pid}`));
      // With the account id, even a state directory that has never seen this token takes the lock first.
      const byId = await runCli(
        [
          ...exportArgs(sandbox, out),
          '--account',
          sandbox.data.account.userId,
          '--state-dir',
          join(out, '_state'),
        ],
        { env },
      );
      expect(byId.code).toBe(5);
      expect(sandbox.stats.requests).toHaveLength(0);
    } finally {
      await release();
    }
  });

  it('--fail-on-loss exits 6 when bodies fell out of the window; the snapshot is still published', async () => {
    const sandbox = await startSandbox({ seed: 84, conversations: 6 });
    const out = await tempDir();
    expect((await runCli(exportArgs(sandbox, out, '--fail-on-loss'), { env })).code).toBe(0);
    sandbox.addMessages(sandbox.data.conversations[2]!.id, 30);
    const result = await runCli(exportArgs(sandbox, out, '--fail-on-loss'), { env });
    expect(result.code).toBe(6);
    const summary = oneJsonLine(result);
    // 10 of the 30 are beyond the window (9 when the sandbox's whole-second times put the first at the run's start).
    expect(summary).toMatchObject({ status: 'complete', counts: { messages: 30 } });
    const lost = (summary['counts'] as { lost: number }).lost;
    expect(lost).toBeGreaterThanOrEqual(9);
    expect((summary['snapshotDirs'] as string[]).length).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`lost ${lost} message bodies`));
  });

  it('a stop signal skips --compact: what was finished is published, and the next compact builds the view', async () => {
    const sandbox = await startSandbox({ seed: 86, conversations: 40, maxMessagesPerConversation: 200 });
    const total = callsToFinish(sandbox, new Set());
    const out = await tempDir();
    const run = spawnCli(
      exportArgs(sandbox, out, '--compact', '--checkpoint-conversations', '4', '--hydrate', 'per-message'),
      { env },
    );
    await waitFor(() => sandbox.stats.requests.length >= total / 2, run.result);
    run.child.kill('SIGINT');
    const stopped = await run.result;
    expect(stopped.code, stopped.stderr).toBe(4);
    expect(oneJsonLine(stopped)).toMatchObject({
      status: 'partial',
      stopReason: 'cancelled',
      compactError: { kind: 'interrupted' },
    });
    expect(stopped.stderr).toMatch(
      /the current view was not rebuilt \(stopped by a signal\); run \\?"ig-export compact\\?" later/,
    );
    expect(await snapshotDirs(sandbox, out)).not.toHaveLength(0);
    const account = `account=${sandbox.data.account.userId}`;
    expect(existsSync(join(out, 'current', account))).toBe(false);
    const compacted = await runCli(['compact', '--output', out]);
    expect(compacted.code, compacted.stderr).toBe(0);
    expect(existsSync(join(out, 'current', account, 'manifest.json'))).toBe(true);
  });

  it('a stop signal during compact or prune --compact ends the fold at once: exit 130, one line, the view as it was', async () => {
    // About 12,000 messages in two snapshots: their fold takes long enough to be stopped half way.
    const sandbox = await startSandbox({ seed: 87, conversations: 200 });
    const out = await tempDir();
    expect((await runCli(exportArgs(sandbox, out, '--compact'), { env })).code).toBe(0);
    expect((await runCli(exportArgs(sandbox, out, '--full'), { env })).code).toBe(0);
    const account = sandbox.data.account.userId;
    const view = join(out, 'current', `account=${account}`);
    const manifest = await readFile(join(view, 'manifest.json'), 'utf8');
    const snapshots = (): string[] => readdirSync(join(out, `account=${account}`));
    const before = snapshots();
    // Stopped once the fold has begun writing the view's messages file under its temporary name.
    const stopMidFold = async (args: string[]): Promise<CliResult> => {
      const run = spawnCli(args, { env });
      await waitFor(() => readdirSync(view).some((n) => n.startsWith('.messages.parquet.tmp-')), run.result);
      run.child.kill('SIGINT');
      return run.result;
    };
    const compact = await stopMidFold(['compact', '--output', out, '--rebuild', '--json']);
    expect(compact.code, compact.stderr).toBe(130);
    expect(oneJsonLine(compact)).toMatchObject({ status: 'failed', error: { kind: 'interrupted' } });
    expect(compact.stderr).toContain(
      `ig-export: stopped by a signal while compacting account ${account}: its current view is as it was before; run ig-export compact again`,
    );
    const prune = await stopMidFold(['prune', '--output', out, '--keep', '1', '--compact']);
    expect(prune.code, prune.stderr).toBe(130);
    expect(prune.stderr).toMatch(
      /stopped by a signal while compacting .+ run ig-export prune --compact again\n$/,
    );
    // The previous view stands, nothing was pruned, and neither a temporary file nor DuckDB's spill is left.
    expect(await readFile(join(view, 'manifest.json'), 'utf8')).toBe(manifest);
    expect(snapshots()).toEqual(before);
    expect(readdirSync(view).sort()).toEqual(['conversations.parquet', 'manifest.json', 'messages.parquet']);
    expect(readdirSync(join(out, 'current')).filter((n) => n.startsWith('.'))).toEqual([]);
    // export --compact stopped while folding: its snapshot was published already, and the view stays as it was.
    const exported = await stopMidFold(exportArgs(sandbox, out, '--full', '--compact'));
    expect(exported.code, exported.stderr).toBe(0);
    expect(oneJsonLine(exported)).toMatchObject({
      status: 'complete',
      compactError: { kind: 'interrupted', message: 'stopped by a signal while compacting' },
    });
    expect(snapshots()).toHaveLength(before.length + 1);
    expect(await readFile(join(view, 'manifest.json'), 'utf8')).toBe(manifest);
    expect(readdirSync(view).sort()).toEqual(['conversations.parquet', 'manifest.json', 'messages.parquet']);
  });

  it('a stop signal ends verify at once, even half way through a file, with one line saying how far it got', async () => {
    const sandbox = await startSandbox({ seed: 88, conversations: 3 });
    const out = await tempDir();
    for (const more of [[], ['--full']])
      expect((await runCli(exportArgs(sandbox, out, ...more), { env })).code).toBe(0);
    const account = join(out, `account=${sandbox.data.account.userId}`);
    const [, second] = readdirSync(account)
      .filter((n) => n.startsWith('snapshot='))
      .sort();
    // The second snapshot's NDJSON replaced by 64 GiB of (sparse) zeros: hashing it would take a minute or more.
    const huge = join(account, second!, 'messages.ndjson');
    await writeFile(huge, '');
    await truncate(huge, 64 * 2 ** 30);
    const run = spawnCli(['verify', account]);
    await run.waitForStdout(/^OK /m);
    run.child.kill('SIGINT');
    const stopped = await run.result;
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stderr).toMatch(
      /\nig-export: verify was stopped by a signal after checking 1 of 2; it only reads, so nothing changed: run it again\n$/,
    );
  });

  it('SIGTERM half way, and SIGKILL after a checkpoint: the next run finishes with only the calls of what was not published', async () => {
    const sandbox = await startSandbox({ seed: 85, conversations: 40, maxMessagesPerConversation: 200 });
    const total = callsToFinish(sandbox, new Set());
    for (const stop of ['SIGTERM', 'SIGKILL'] as const) {
      const out = await tempDir();
      // One call per message detail, whose calls callsToFinish counts (test/integration/hydration-strategy covers
      // expansion).
      const args = exportArgs(sandbox, out, '--checkpoint-conversations', '4', '--hydrate', 'per-message');
      sandbox.resetStats();
      const run = spawnCli(args, { env });
      if (stop === 'SIGTERM') await waitFor(() => sandbox.stats.requests.length >= total / 2, run.result);
      else await run.waitForStderr(/checkpoint 1 published/);
      run.child.kill(stop);
      const first = await run.result;
      if (stop === 'SIGTERM') {
        expect(first.code, first.stderr).toBe(4);
        expect(oneJsonLine(first)).toMatchObject({ status: 'partial', stopReason: 'cancelled' });
      }
      const published = await snapshotDirs(sandbox, out);
      for (const dir of published) await expectNoOrphanMessages(dir);
      const finished = await finishedConversations(published);
      expect(finished.size).toBeGreaterThan(0);
      expect(finished.size).toBeLessThan(40);

      sandbox.resetStats();
      const second = await runCli(args, { env });
      expect(second.code, second.stderr).toBe(0);
      const summary = oneJsonLine(second);
      expect(summary['resumedFromRunId']).toEqual(expect.any(String));
      expect(summary['skippedConversations']).toBe(finished.size);
      expect(sandbox.stats.requests).toHaveLength(callsToFinish(sandbox, finished));
      expect(second.stderr).toMatch(/resuming the unfinished full export/);
    }
  });
});
