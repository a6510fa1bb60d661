import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/export-options.js';
import { runCli } from '../helpers/run-cli.js';
import { startSandbox, TEST_TOKEN } from '../helpers/sandbox-fixture.js';

describe('ig-export probe through the CLI', () => {
  it('--json prints one line, writes the report under the state folder, and shows no token or text', async () => {
    const sandbox = await startSandbox({
      seed: 23,
      conversations: 20,
      pagingLinks: 'node',
      expansion: 'ignore',
    });
    const out = await tempDir();
    const result = await runCli(
      ['probe', '--base-url', sandbox.url, '--output', out, '--max-rps', '1000', '--json'],
      {
        env: { IG_ACCESS_TOKEN: TEST_TOKEN },
      },
    );
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    const summary = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(summary).toMatchObject({
      status: 'complete',
      exitCode: 0,
      expansion: 'ignored',
      nestedPaging: 'node',
    });
    expect(summary['calls']).toBe(sandbox.stats.requests.length);
    const files = await readdir(join(out, '_state'));
    const reports = files.filter((f) => /^probe-\d{8}T\d{9}Z\.json$/.test(f));
    expect(reports).toHaveLength(1);
    const report = await readFile(join(out, '_state', reports[0]!), 'utf8');
    expect(JSON.parse(report)).toMatchObject({ expansion: 'ignored', nestedPaging: 'node' });
    const texts = sandbox.data.conversations
      .flatMap((c) => c.messages.map((m) => m.text))
      .filter((t) => t.length >= 12);
    for (const text of [result.stdout, result.stderr, report]) {
      expect(text).not.toContain(TEST_TOKEN);
      for (const t of texts) expect(text).not.toContain(t);
    }
  });

  it('a refused token is exit 3 with one failed line, as for export', async () => {
    const sandbox = await startSandbox({ seed: 23, conversations: 2 });
    const result = await runCli(['probe', '--base-url', sandbox.url, '--output', await tempDir(), '--json'], {
      env: { IG_ACCESS_TOKEN: 'IGAAwrong-token-value' },
    });
    expect(result.code).toBe(3);
    expect(JSON.parse(result.stdout.trim())).toMatchObject({ status: 'failed', exitCode: 3 });
  });
});
