import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { tempDir } from '../helpers/export-options.js';
import { byKey, readNdjson } from '../helpers/expected-rows.js';
import { exportArgs, runCli, spawnCli } from '../helpers/run-cli.js';
import { startSandbox, TEST_TOKEN } from '../helpers/sandbox-fixture.js';

function snapshotOf(stdout: string): string {
  const lines = stdout.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1);
  return (JSON.parse(lines[0]!) as { snapshotDir: string }).snapshotDir;
}

/** Message ids, statuses and times: what a replay must give back (links name the host that served them). */
async function messages(snapshotDir: string): Promise<unknown[]> {
  const rows = byKey(await readNdjson(join(snapshotDir, 'messages.ndjson')), 'message_id');
  return rows.map((r) => [r['message_id'], r['hydration_status'], r['created_time'], r['message']]);
}

describe('export --record, then sandbox --replay, through the CLI', () => {
  it('records a run, serves it back on a port of its own, and the replayed export has the same messages', async () => {
    const sandbox = await startSandbox({ seed: 71, conversations: 5, faults: { rates: { html_502: 0.1 } } });
    const recording = await tempDir();
    const first = await runCli(exportArgs(sandbox.url, await tempDir(), '--record', recording), {
      env: { IG_ACCESS_TOKEN: TEST_TOKEN },
    });
    expect(first.code).toBe(0);
    const exchanges = await readFile(join(recording, 'exchanges.ndjson'), 'utf8');
    expect(exchanges.trim().split('\n')).toHaveLength(sandbox.stats.requests.length);
    expect(exchanges).not.toContain(TEST_TOKEN);

    // A second run into the same folder would mix two recordings: refused.
    const again = await runCli(exportArgs(sandbox.url, await tempDir(), '--record', recording), {
      env: { IG_ACCESS_TOKEN: TEST_TOKEN },
    });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already holds a recording');

    const replay = spawnCli(['sandbox', '--replay', recording, '--port', '0']);
    try {
      await replay.waitForStdout(/ on http:\/\/\S+\n/);
      const url = / on (http:\/\/\S+)\n/.exec(replay.stdoutSoFar())![1]!;
      const replayed = await runCli(exportArgs(url, await tempDir()), { env: { IG_ACCESS_TOKEN: 'any' } });
      expect(replayed.code).toBe(0);
      expect(await messages(snapshotOf(replayed.stdout))).toEqual(await messages(snapshotOf(first.stdout)));
    } finally {
      replay.child.kill('SIGTERM');
      expect((await replay.result).code).toBe(0);
    }
  });

  it('--record where no folder can be made: exit 8 naming --record, before any call (it used to spin for ever on /proc)', async () => {
    const sandbox = await startSandbox({ seed: 72, conversations: 1 });
    const run = spawnCli(
      exportArgs(sandbox.url, await tempDir(), '--record', '/proc/self/ig-export/recording'),
      { env: { IG_ACCESS_TOKEN: TEST_TOKEN } },
    );
    // The code before this fix never ended, nor heeded SIGTERM: a test that times out must not leave it spinning.
    onTestFinished(() => void run.child.kill('SIGKILL'));
    const { code, stdout, stderr } = await run.result;
    expect(code).toBe(8);
    expect(JSON.parse(stdout)).toMatchObject({ error: { kind: 'filesystem' } });
    expect(stderr).toContain(
      'cannot create /proc/self/ig-export: ENOENT, this filesystem does not allow creating it (e.g. /proc); ' +
        'choose another --record or fix the directory',
    );
    expect(sandbox.stats.requests).toHaveLength(0);
  });

  it('sandbox --replay of a folder with no recording: exit 2 naming it', async () => {
    const dir = await tempDir();
    const result = await runCli(['sandbox', '--replay', dir, '--port', '0']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`--replay ${dir}: no recording there`);
  });
});
