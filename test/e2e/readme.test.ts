import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderSchemaMarkdown } from '../../src/cli/commands/schema.js';
import { compactAccount } from '../../src/pipeline/compact-current-view.js';
import { DEFAULT_PARQUET_OPTIONS } from '../../src/writers/parquet-writer.js';
import { exportSandbox, tempDir } from '../helpers/export-options.js';
import { duckdbQuery } from '../helpers/parquet-readers.js';
import { REPO_ROOT } from '../helpers/run-cli.js';
import { startSandbox } from '../helpers/sandbox-fixture.js';

const readme = (): Promise<string> => readFile(join(REPO_ROOT, 'README.md'), 'utf8');

describe('README stays true', () => {
  it('its column tables are the schema', async () => {
    const text = await readme();
    const block = /<!-- prettier-ignore-start -->\n([\s\S]*?)\n<!-- prettier-ignore-end -->/.exec(text)?.[1];
    expect(block?.trim()).toBe(renderSchemaMarkdown().trim());
  });

  it('its DuckDB queries run as written on real output', async () => {
    const sandbox = await startSandbox({ seed: 12, conversations: 8 });
    const out = await tempDir();
    const first = await exportSandbox(sandbox, out);
    sandbox.addMessages(sandbox.data.conversations[0]!.id, 3);
    await exportSandbox(
      sandbox,
      out,
      {},
      { clock: { now: () => Date.now() + 60_000, sleep: () => Promise.resolve() } },
    );
    const sql = /```sql\n([\s\S]*?)```/.exec(await readme())?.[1] ?? '';
    const statements = sql
      .split(';')
      .map((s) => s.replace(/--.*$/gm, '').trim())
      .filter((s) => s !== '');
    expect(statements).toHaveLength(4);
    await compactAccount(out, sandbox.data.account.userId, DEFAULT_PARQUET_OPTIONS, () => Date.now());
    const [current, all, archive, emoji] = await Promise.all(
      statements.map((s) => duckdbQuery(s.replaceAll("'output/", `'${out}/`))),
    );
    expect(current!.reduce((a, r) => a + Number(r['count_star()']), 0)).toBe(first.counts.messages + 3);
    // The second run is incremental: its snapshot holds the 3 new messages only.
    expect(all).toHaveLength(first.counts.messages + 3);
    expect(typeof all![0]!['account']).toBe('string'); // folder key kept as text
    expect(typeof all![0]!['account_id']).toBe('string');
    expect(archive).toHaveLength(first.counts.messages + 3);
    expect(new Set(archive!.map((r) => r['message_id'])).size).toBe(archive!.length);
    expect(emoji).toHaveLength(all!.filter((r) => r['message'] === '😀').length);
    expect(emoji!.every((r) => r['message'] === '😀')).toBe(true);
  });
});
