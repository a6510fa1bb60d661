import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONVERSATION_COLUMNS, type ConversationRow } from '../../src/schema/tables.js';
import { createNdjsonWriter } from '../../src/writers/ndjson-writer.js';
import { createParquetWriter } from '../../src/writers/parquet-writer.js';
import { SchemaViolationError } from '../../src/writers/row-check.js';
import { tempDir } from '../helpers/export-options.js';

const good: ConversationRow = {
  account_id: '1',
  conversation_id: 'c',
  updated_time: Date.UTC(2026, 0, 1),
  message_count: 3,
  snapshot_message_rows: 3,
  hydrated_count: 2,
  participant_id: null,
  participant_username: null,
  snapshot_id: 'S',
  extracted_at: Date.UTC(2026, 0, 2),
};

describe('writers reject values that do not match the schema, in both formats alike', () => {
  for (const format of ['ndjson', 'parquet'] as const) {
    it(format, async () => {
      const path = join(await tempDir(), `t.${format}`);
      const w =
        format === 'ndjson'
          ? createNdjsonWriter<Record<string, unknown>>(path, CONVERSATION_COLUMNS)
          : createParquetWriter<Record<string, unknown>>(path, CONVERSATION_COLUMNS);
      await w.write(good);
      const bad: Array<[Record<string, unknown>, RegExp]> = [
        [
          { ...good, message_count: '12 secret' },
          /column message_count holds int32, but the row has a string there/,
        ],
        [{ ...good, hydrated_count: 1.5 }, /hydrated_count holds int32/],
        [{ ...good, updated_time: Number.NaN }, /updated_time holds timestamp/],
        [{ ...good, updated_time: '2026-01-01' }, /updated_time holds timestamp, but the row has a string/],
        [{ ...good, conversation_id: null }, /conversation_id is not nullable/],
        [{ ...good, participant_id: 42 }, /participant_id holds string, but the row has a number/],
      ];
      for (const [row, message] of bad) {
        const error = await w.write(row).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SchemaViolationError);
        expect((error as Error).message).toMatch(message);
        expect((error as Error).message).not.toContain('secret');
      }
      expect(await w.close()).toEqual({ rows: 1 });
    });
  }
});
