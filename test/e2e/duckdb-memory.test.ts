import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/export-options.js';
import { exportArgs, runCli, type CliResult } from '../helpers/run-cli.js';
import { startSandbox, TEST_TOKEN } from '../helpers/sandbox-fixture.js';

const env = { IG_ACCESS_TOKEN: TEST_TOKEN };

/** The one JSON line a --json run prints. */
const jsonLine = (r: CliResult): Record<string, unknown> => {
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  expect(lines, r.stderr).toHaveLength(1);
  return JSON.parse(lines[0]!) as Record<string, unknown>;
};

describe('--duckdb-memory: an account that outgrows DuckDB’s memory limit', () => {
  it('compact, prune --compact and export --compact say which limit was too small and what to pass; nothing is lost or left behind', async () => {
    // About 12,000 messages: folding them needs more than 16 MB of DuckDB memory, and fits in 64 MB.
    const sandbox = await startSandbox({ seed: 5, conversations: 200 });
    const out = await tempDir();
    const url = sandbox.url;
    const exported = await runCli(exportArgs(url, out, '--compact', '--duckdb-memory', '64'), { env });
    expect(exported.code, exported.stderr).toBe(0);
    expect(jsonLine(exported)['compactError']).toBeUndefined();
    const view = join(out, 'current', `account=${sandbox.data.account.userId}`);
    const manifest = await readFile(join(view, 'manifest.json'), 'utf8');

    const tooSmall = await runCli(['compact', '--output', out, '--duckdb-memory', '16']);
    expect(tooSmall.code).toBe(2);
    expect(tooSmall.stderr.trim().split('\n')).toHaveLength(1);
    expect(tooSmall.stderr).toMatch(
      /^ig-export: compacting account \d+ needs more memory than DuckDB's 16 MB limit \(.+\); run it again with --duckdb-memory 64 \(MB\)/,
    );
    const asJson = await runCli(['compact', '--output', out, '--duckdb-memory', '16', '--json']);
    expect(jsonLine(asJson)).toMatchObject({ status: 'failed', exitCode: 2, error: { kind: 'memory' } });
    // The previous view stands, and neither a temporary file nor DuckDB's spill is left in current/.
    expect(await readFile(join(view, 'manifest.json'), 'utf8')).toBe(manifest);
    expect((await readdir(view)).sort()).toEqual([
      'conversations.parquet',
      'manifest.json',
      'messages.parquet',
    ]);
    expect((await readdir(join(out, 'current'))).filter((n) => n.startsWith('.'))).toEqual([]);

    const snapshots = async (): Promise<string[]> =>
      (await readdir(join(out, `account=${sandbox.data.account.userId}`))).filter((n) =>
        n.startsWith('snapshot='),
      );
    const again = await runCli(exportArgs(url, out, '--full'), { env });
    expect(again.code, again.stderr).toBe(0);
    const before = await snapshots();
    expect(before).toHaveLength(2);
    const prune = (mb: string) =>
      runCli(['prune', '--output', out, '--keep', '1', '--compact', '--duckdb-memory', mb]);
    const pruned = await prune('16');
    expect(pruned.code).toBe(2);
    expect(pruned.stderr).toMatch(/needs more memory than DuckDB's 16 MB limit/);
    expect(await snapshots()).toEqual(before);

    // An export publishes its snapshot whatever happens to the compaction after it, and says what failed.
    const third = await runCli(exportArgs(url, out, '--full', '--compact', '--duckdb-memory', '16'), { env });
    expect(third.code, third.stderr).toBe(0);
    expect(jsonLine(third)['compactError']).toMatchObject({
      kind: 'memory',
      message: expect.stringMatching(/--duckdb-memory 64/) as unknown,
    });
    expect(await snapshots()).toHaveLength(3);

    const enough = await prune('64');
    expect(enough.code, enough.stderr).toBe(0);
    expect(await snapshots()).toHaveLength(1);

    // More than the machine has: DuckDB would never spill before the system stopped the process. A warning, not an error.
    const huge = await runCli(['compact', '--output', out, '--duckdb-memory', '1048576']);
    expect(huge.code, huge.stderr).toBe(0);
    expect(huge.stderr).toMatch(
      /^ig-export: --duckdb-memory 1048576 is more than the \d+ MB this machine \(or container\) has: .*give less than that\n/,
    );

    for (const value of ['8', 'lots']) {
      const refused = await runCli(['compact', '--output', out, '--duckdb-memory', value]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/--duckdb-memory must be a whole number from 16 to 1048576/);
    }
  });
});
