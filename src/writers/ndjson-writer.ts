import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Column } from '../schema/tables.js';
import { checkRow } from './row-check.js';
import type { TableWriter } from './table-writer.js';

const FLUSH_BYTES = 64 * 1024;

/**
 * Serialises one row: columns in schema order, timestamps as ISO-8601 with `Z`; lists as arrays and JSON columns as
 * the objects themselves.
 */
export function ndjsonLine(columns: readonly Column[], row: Record<string, unknown>): string {
  const out: Record<string, unknown> = {};
  for (const c of columns) {
    const v = row[c.name] ?? null;
    out[c.name] = c.type === 'timestamp' && typeof v === 'number' ? new Date(v).toISOString() : v;
  }
  return `${JSON.stringify(out)}\n`;
}

/** Newline-delimited JSON, streamed with backpressure; memory stays at one 64 KiB buffer. */
export function createNdjsonWriter<Row extends object>(
  path: string,
  columns: readonly Column[],
): TableWriter<Row> {
  const stream = createWriteStream(path, { flags: 'wx' });
  let buffer = '';
  let rows = 0;
  const flush = async (): Promise<void> => {
    if (buffer === '') return;
    const chunk = buffer;
    buffer = '';
    if (!stream.write(chunk)) await once(stream, 'drain');
  };
  return {
    async write(row) {
      checkRow(columns, row as Record<string, unknown>);
      buffer += ndjsonLine(columns, row as Record<string, unknown>);
      rows++;
      if (buffer.length >= FLUSH_BYTES) await flush();
    },
    async close() {
      await flush();
      stream.end();
      await once(stream, 'finish');
      return { rows };
    },
    async abort() {
      stream.destroy();
      await once(stream, 'close').catch(() => undefined);
    },
  };
}
