import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CONVERSATION_COLUMNS,
  MESSAGE_COLUMNS,
  type Column,
  type MessageRow,
} from '../../src/schema/tables.js';
import { BatchMemory, buildColumnBuffers } from '../../src/writers/arrow-batch.js';
import { createParquetWriter } from '../../src/writers/parquet-writer.js';
import { tempDir } from '../helpers/export-options.js';
import { duckdbQuery } from '../helpers/parquet-readers.js';

const TRICKY = ['😀', 'Ａ', 'ＡＢ fullwidth', 'b', '你好', 'مرحبا', '👩‍👩‍👧‍👦', '', 'e\u0301', 'line\nbreak'];

function row(i: number, message: string | null): MessageRow {
  return {
    account_id: '17841400000000001',
    conversation_id: `c${i % 7}`,
    message_id: `m${String(i).padStart(6, '0')}`,
    position: i % 40,
    created_time: Date.UTC(2025, 0, 1) + i * 60_000,
    hydration_status: message === null ? 'outside_window' : 'hydrated',
    from_id: null,
    from_username: null,
    to_id: null,
    to_username: null,
    message,
    attachments: null,
    reactions: null,
    is_unsupported: message === null ? null : i % 2 === 0,
    attachment_types: message === null ? null : i % 3 === 0 ? ['image', 'video'] : [],
    attachment_urls: message === null ? null : i % 3 === 0 ? [`https://cdn/${i}`, null] : [],
    share_links: null,
    story_type: null,
    story_id: null,
    story_link: null,
    reaction_emojis: message === null ? null : [TRICKY[i % TRICKY.length]!],
    reaction_user_ids: message === null ? null : [null],
    raw: { id: `m${i}`, message },
    source: message === null ? null : 'api',
    deleted_at: i % 11 === 0 ? Date.UTC(2025, 5, 1) : null,
    snapshot_id: 'S',
    extracted_at: Date.UTC(2026, 0, 1),
  };
}

describe('Parquet writer (parquet-wasm)', () => {
  it('writes a valid file with the schema when there are no rows', async () => {
    const path = join(await tempDir(), 'empty.parquet');
    const w = createParquetWriter(path, CONVERSATION_COLUMNS);
    expect(await w.close()).toEqual({ rows: 0 });
    const types = await duckdbQuery(
      `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM '${path}')`,
    );
    expect(types.map((t) => t['column_name'])).toEqual(CONVERSATION_COLUMNS.map((c) => c.name));
    expect(await duckdbQuery(`SELECT count(*) AS n FROM '${path}'`)).toEqual([{ n: 0n }]);
  });

  it('DuckDB filters on emoji, fullwidth, CJK, RTL text and on time ranges agree with a full scan', async () => {
    const path = join(await tempDir(), 'm.parquet');
    // Small row groups so that string statistics decide which groups DuckDB reads.
    const w = createParquetWriter<MessageRow>(path, MESSAGE_COLUMNS, {
      compression: 'zstd',
      rowGroupSize: 7,
      batchSize: 5,
    });
    const messages = Array.from({ length: 200 }, (_, i) =>
      i % 11 === 0 ? null : TRICKY[i % TRICKY.length]!,
    );
    for (const [i, m] of messages.entries()) await w.write(row(i, m));
    await w.close();
    for (const value of TRICKY) {
      const literal = value.replace(/'/g, "''");
      const [pushed] = await duckdbQuery(`SELECT count(*) AS n FROM '${path}' WHERE message = '${literal}'`);
      const [scanned] = await duckdbQuery(
        `SELECT count(*) AS n FROM (SELECT message || '' AS m FROM '${path}') WHERE m = '${literal}'`,
      );
      expect(pushed, value).toEqual({ n: BigInt(messages.filter((m) => m === value).length) });
      expect(pushed, value).toEqual(scanned);
    }
    const [ge] = await duckdbQuery(`SELECT count(*) AS n FROM '${path}' WHERE message >= '😀'`);
    const utf8 = (s: string) => Buffer.from(s, 'utf8');
    expect(ge).toEqual({
      n: BigInt(messages.filter((m) => m !== null && Buffer.compare(utf8(m), utf8('😀')) >= 0).length),
    });
    const [range] = await duckdbQuery(
      `SELECT count(*) AS n FROM '${path}' WHERE created_time >= TIMESTAMPTZ '2025-01-01 01:00:00+00' AND created_time < TIMESTAMPTZ '2025-01-01 02:00:00+00'`,
    );
    expect(range).toEqual({ n: 60n });
    const [nulls] = await duckdbQuery(
      `SELECT count(*) FILTER (message IS NULL) AS nulls, count(*) FILTER (message = '') AS empty FROM '${path}'`,
    );
    expect(nulls).toEqual({
      nulls: BigInt(messages.filter((m) => m === null).length),
      empty: BigInt(messages.filter((m) => m === '').length),
    });
  });

  it('lets the event loop run within each batch, even when the rows come without a wait', async () => {
    // V8 finishes a garbage collection's marking in a task: a writer that never yields holds it off (see send()).
    const w = createParquetWriter<MessageRow>(join(await tempDir(), 'y.parquet'), MESSAGE_COLUMNS, {
      compression: 'zstd',
      rowGroupSize: 7,
      batchSize: 5,
    });
    let turns = 0;
    const count = (): void => {
      turns++;
      if (turns < 100) setImmediate(count);
    };
    setImmediate(count);
    for (let i = 0; i < 15; i++) await w.write(row(i, 'x'));
    // Three batches sent, never four in flight: nothing but the writer itself lets the loop turn.
    expect(turns).toBeGreaterThanOrEqual(3);
    await w.close();
  });

  it('writes lists (with null items) and JSON columns that DuckDB reads back as written', async () => {
    const path = join(await tempDir(), 'lists.parquet');
    const w = createParquetWriter<MessageRow>(path, MESSAGE_COLUMNS, {
      compression: 'zstd',
      rowGroupSize: 7,
      batchSize: 5,
    });
    const rows = Array.from({ length: 60 }, (_, i) =>
      row(i, i % 4 === 0 ? null : TRICKY[i % TRICKY.length]!),
    );
    for (const r of rows) await w.write(r);
    await w.close();
    const back = await duckdbQuery(
      `SELECT message_id, attachment_types, attachment_urls, reaction_emojis, reaction_user_ids,
              json_extract_string(raw, '$.id') AS raw_id FROM '${path}' ORDER BY message_id`,
    );
    expect(back).toEqual(
      rows.map((r) => ({
        message_id: r.message_id,
        attachment_types: r.attachment_types,
        attachment_urls: r.attachment_urls,
        reaction_emojis: r.reaction_emojis,
        reaction_user_ids: r.reaction_user_ids,
        raw_id: r.message_id.replace(/^m0*(?=\d)/, 'm'),
      })),
    );
    const [images] = await duckdbQuery(
      `SELECT count(*) AS n FROM '${path}' WHERE list_contains(attachment_types, 'image')`,
    );
    expect(images).toEqual({ n: BigInt(rows.filter((r) => r.attachment_types?.includes('image')).length) });
  });

  it('writes the columns whose values rarely repeat (message_id, raw) without a dictionary, the others with one', async () => {
    const path = join(await tempDir(), 'dictionaries.parquet');
    const w = createParquetWriter<MessageRow>(path, MESSAGE_COLUMNS);
    for (let i = 0; i < 300; i++) await w.write(row(i, TRICKY[i % TRICKY.length]!));
    await w.close();
    const chunks = await duckdbQuery(
      `SELECT path_in_schema AS name, encodings FROM parquet_metadata('${path}') WHERE row_group_id = 0`,
    );
    const dictionary = (name: string): boolean =>
      String(chunks.find((c) => c['name'] === name)?.['encodings']).includes('DICTIONARY');
    expect((MESSAGE_COLUMNS as readonly Column[]).filter((c) => c.distinct).map((c) => c.name)).toEqual([
      'message_id',
      'raw',
    ]);
    expect([dictionary('message_id'), dictionary('raw')]).toEqual([false, false]);
    expect([dictionary('conversation_id'), dictionary('message')]).toEqual([true, true]);
    expect(await duckdbQuery(`SELECT count(DISTINCT message_id) AS n FROM '${path}'`)).toEqual([{ n: 300n }]);
  });

  it('reuses the buffers the encoder hands back, zeroed where bits are set, larger where a batch needs more', () => {
    const memory = new BatchMemory();
    const first = buildColumnBuffers(MESSAGE_COLUMNS, [row(1, 'hello'), row(2, null)], memory);
    const firstBuffers = memory.takeBatch();
    expect(firstBuffers.length).toBeGreaterThan(MESSAGE_COLUMNS.length);
    // Dirty every buffer, as the encoder leaves them, then hand them back.
    for (const b of firstBuffers) new Uint8Array(b).fill(0xff);
    memory.recycle(firstBuffers);
    const long = 'x'.repeat(5000);
    const second = buildColumnBuffers(MESSAGE_COLUMNS, [row(3, null), row(4, long)], memory);
    const secondBuffers = memory.takeBatch();
    const reused = secondBuffers.filter((b) => firstBuffers.includes(b));
    expect(reused.length).toBeGreaterThan(secondBuffers.length / 2);
    const message = MESSAGE_COLUMNS.findIndex((c) => c.name === 'message');
    // Row 3 has no text: its validity bit is clear although the reused bitmap was all ones.
    expect(second[message]!.nullBitmap![0]! & 0b11).toBe(0b10);
    expect(second[message]!.data!.byteLength).toBe(5000);
    // The same column asks for the same buffer in the same place of its batch: the offsets come back as they went.
    expect(second[message]!.valueOffsets!.buffer).toBe(first[message]!.valueOffsets!.buffer);
  });
});
