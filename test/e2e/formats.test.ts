import { readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/export-options.js';
import { exportArgs, runCli } from '../helpers/run-cli.js';
import { startSandbox, TEST_TOKEN } from '../helpers/sandbox-fixture.js';

const lastJson = (stdout: string): Record<string, unknown> =>
  JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;

describe('--formats: only the formats asked for', () => {
  it('parquet alone: no NDJSON written; state rebuilt from the Parquet files; compact and verify as usual', async () => {
    const sandbox = await startSandbox({ seed: 31, conversations: 6 });
    const out = await tempDir();
    const env = { IG_ACCESS_TOKEN: TEST_TOKEN };
    const first = await runCli(exportArgs(sandbox.url, out, '--formats', 'parquet'), { env });
    expect(first.code).toBe(0);
    const snapshot = lastJson(first.stdout)['snapshotDir'] as string;
    expect((await readdir(snapshot)).filter((n) => /\.(ndjson|parquet)$/.test(n)).sort()).toEqual([
      'conversations.parquet',
      'messages.parquet',
    ]);
    // Crash recovery reads the snapshots back: here from Parquet, so the rebuilt state knows everything is exported.
    const rebuilt = await runCli(exportArgs(sandbox.url, out, '--formats', 'parquet', '--rebuild-state'), {
      env,
    });
    expect(rebuilt.code).toBe(0);
    // Every conversation is known with its messages: two calls, nothing to publish.
    expect(lastJson(rebuilt.stdout)).toMatchObject({
      status: 'complete',
      mode: 'incremental',
      calls: 2,
      snapshotDir: null,
      skippedConversations: 6,
    });
    expect((await runCli(['compact', '--output', out])).code).toBe(0);
    expect((await runCli(['verify', out])).code).toBe(0);
  });

  it('a list without parquet, or an unknown format, is one line and exit 2', async () => {
    const out = await tempDir();
    for (const formats of ['ndjson', 'csv,parquet']) {
      const r = await runCli(['export', '--output', out, '--formats', formats], {
        env: { IG_ACCESS_TOKEN: 'x' },
      });
      expect(r.code, formats).toBe(2);
      expect(r.stderr.split('\n')[0]).toMatch(/^ig-export: .*formats/);
    }
  });
});
