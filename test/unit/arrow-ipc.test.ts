import { tableFromIPC, Vector } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { MESSAGE_COLUMNS } from '../../src/schema/tables.js';
import { BatchMemory, buildColumnBuffers } from '../../src/writers/arrow-batch.js';
import { ArrowIpcStream, IpcBuffer } from '../../src/writers/arrow-ipc.js';
import { EVERY_COLUMN_TYPE as COLUMNS } from '../helpers/every-column-type.js';

const TEXT = ['', 'a', '😀 emoji', '你好', 'مرحبا', 'e\u0301', 'line\nbreak', 'x'.repeat(300)];

function rows(n: number, seed: number): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => {
    const k = i + seed;
    return {
      id: TEXT[k % TEXT.length]!,
      at: k % 3 === 0 ? null : Date.UTC(2025, 0, 1) + k * 61_001,
      n: k % 5 === 0 ? null : k - 1_000,
      ok: k % 7 === 0 ? null : k % 2 === 0,
      tags: k % 4 === 0 ? null : k % 4 === 1 ? [] : [TEXT[k % TEXT.length]!, null, 'z'],
      raw: k % 6 === 0 ? null : { k, text: TEXT[k % TEXT.length] },
    };
  });
}

/** The rows back from the IPC bytes, read by apache-arrow (an independent reader). */
function decode(bytes: Uint8Array): {
  types: string[];
  nullable: boolean[];
  rows: Record<string, unknown>[];
} {
  const table = tableFromIPC(bytes);
  return {
    types: table.schema.fields.map((f) => String(f.type)),
    nullable: table.schema.fields.map((f) => f.nullable),
    rows: table.toArray().map((r: { toJSON(): Record<string, unknown> }) => {
      const o = r.toJSON();
      return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v instanceof Vector ? [...v] : v]));
    }),
  };
}

const expected = (input: Record<string, unknown>[]): Record<string, unknown>[] =>
  input.map((r) => ({ ...r, raw: r['raw'] === null ? null : JSON.stringify(r['raw']) }));

describe('Arrow IPC stream of a batch', () => {
  it('apache-arrow reads back every type, null, empty value and text width, with the schema', () => {
    const input = rows(1_000, 0);
    const out = new IpcBuffer();
    const bytes = new ArrowIpcStream(COLUMNS).write(out, input.length, buildColumnBuffers(COLUMNS, input));
    const read = decode(bytes);
    expect(read.types).toEqual([
      'Utf8',
      'Timestamp<MILLISECOND, UTC>',
      'Int32',
      'Bool',
      'List<Utf8>',
      'Utf8',
    ]);
    expect(read.nullable).toEqual([false, true, true, true, true, true]);
    expect(read.rows).toEqual(expected(input));
  });

  it('writes batches of every length (no nulls, a single row, none) into one buffer, grown and reused', () => {
    const stream = new ArrowIpcStream(COLUMNS);
    // Small at first, so that the batches grow it, the prefix already written kept.
    const out = new IpcBuffer(64);
    const memory = new BatchMemory();
    let first: ArrayBufferLike | undefined;
    for (const [n, seed] of [
      [37, 1],
      [1, 2],
      [0, 0],
      [4_096, 5],
      [9, 8],
    ] as const) {
      const input = rows(n, seed).map((r) => ({ ...r, n: 1, ok: true }));
      const bytes = stream.write(out, n, buildColumnBuffers(COLUMNS, input, memory));
      memory.recycle(memory.takeBatch());
      expect(decode(bytes).rows).toEqual(expected(input));
      if (n === 4_096) first = bytes.buffer;
      else if (first) expect(bytes.buffer).toBe(first);
    }
  });

  it("lays out the export's message table", () => {
    const input = [
      Object.fromEntries(
        MESSAGE_COLUMNS.map((c) => [c.name, c.nullable ? null : c.type === 'string' ? 'v' : 0]),
      ),
    ];
    const bytes = new ArrowIpcStream(MESSAGE_COLUMNS).write(
      new IpcBuffer(),
      1,
      buildColumnBuffers(MESSAGE_COLUMNS, input),
    );
    const read = decode(bytes);
    expect(Object.keys(read.rows[0]!)).toEqual(MESSAGE_COLUMNS.map((c) => c.name));
    expect(read.nullable).toEqual(MESSAGE_COLUMNS.map((c) => c.nullable));
  });
});
