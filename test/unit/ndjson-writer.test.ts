import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createNdjsonWriter, ndjsonSerializer } from '../../src/writers/ndjson-writer.js';
import { EVERY_COLUMN_TYPE as COLUMNS } from '../helpers/every-column-type.js';

/** What a line must be: JSON.stringify of the row's columns in schema order, timestamps in ISO-8601. */
function expected(row: Record<string, unknown>): string {
  const out: Record<string, unknown> = {};
  for (const c of COLUMNS) {
    const v = row[c.name] ?? null;
    out[c.name] = c.type === 'timestamp' && typeof v === 'number' ? new Date(v).toISOString() : v;
  }
  return `${JSON.stringify(out)}\n`;
}

const ROWS: Array<Record<string, unknown>> = [
  { id: 'a', at: 0, n: -0, ok: true, tags: ['x', null], raw: { nested: { q: '"quoted"\n' } } },
  { id: 'b\u2028😀', at: null, n: undefined, ok: false, tags: [], raw: null },
  { id: 'c', at: 1_764_633_600_123, n: 2_147_483_647, ok: null, tags: null, raw: { '': 1 } },
  // One line far longer than the writer's 64 KiB chunk, in 3-byte characters.
  { id: '€'.repeat(70_000), at: 1, n: 1, ok: true, tags: ['€'.repeat(30_000)], raw: {} },
];

describe('NDJSON writer', () => {
  it('serialises each row as JSON.stringify of its columns in schema order', () => {
    const serialise = ndjsonSerializer(COLUMNS);
    for (const row of ROWS) expect(serialise(row)).toBe(expected(row));
  });

  it('writes every line whole, also lines longer than its chunk and rows past many chunks', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'ig-export-ndjson-')), 't.ndjson');
    const writer = createNdjsonWriter<Record<string, unknown>>(path, COLUMNS);
    const rows = [
      ...ROWS,
      ...Array.from({ length: 3_000 }, (_, i) => ({ id: `r${i}`, raw: { i } })),
      ...ROWS,
    ];
    for (const row of rows) await writer.write(row);
    await expect(writer.close()).resolves.toEqual({ rows: rows.length });
    expect(await readFile(path, 'utf8')).toBe(rows.map(expected).join(''));
  });
});
