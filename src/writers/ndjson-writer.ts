import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import type { Column } from '../schema/tables.js';
import { checkRow } from './row-check.js';
import type { TableWriter } from './table-writer.js';

const FLUSH_BYTES = 64 * 1024;

/**
 * The serialiser of one table's rows: columns in schema order, timestamps as ISO-8601 with `Z`, lists as arrays and
 * JSON columns as the objects themselves. The same text as `JSON.stringify` of a row object in schema order, about a
 * third faster: each value is stringified on its own, behind its key made once, with no row object built.
 */
export function ndjsonSerializer(columns: readonly Column[]): (row: Record<string, unknown>) => string {
  const names = columns.map((c) => c.name);
  const keys = columns.map((c, i) => `${i === 0 ? '' : ','}${JSON.stringify(c.name)}:`);
  const timestamp = columns.map((c) => c.type === 'timestamp');
  const n = columns.length;
  return (row) => {
    let line = '{';
    for (let i = 0; i < n; i++) {
      const v = row[names[i]!] ?? null;
      line +=
        keys[i]! + JSON.stringify(timestamp[i] && typeof v === 'number' ? new Date(v).toISOString() : v);
    }
    return `${line}}\n`;
  };
}

/**
 * Newline-delimited JSON, streamed with backpressure; memory stays at one 64 KiB chunk (or one line, when longer). A write error (a full disk,
 * an I/O error) is kept and thrown by the next `write` or `close`; nothing ever waits on an event the stream has
 * already emitted (a full disk once ended a run with exit 0 that way: the event loop emptied while it waited).
 */
export function createNdjsonWriter<Row extends object>(
  path: string,
  columns: readonly Column[],
): TableWriter<Row> {
  const stream = createWriteStream(path, { flags: 'wx' });
  let failure: Error | undefined;
  stream.on('error', (e: NodeJS.ErrnoException) => {
    // fs write errors carry no path: add it, so the failure names the file (exit 8, not "unexpected").
    failure ??= Object.assign(e, { path: e.path ?? path, syscall: e.syscall ?? 'write' });
  });
  const serialise = ndjsonSerializer(columns);
  // Each line is encoded into the chunk as it comes: one long string of concatenated lines would be flattened and
  // encoded in one piece at every flush, which cost more than serialising the rows.
  let chunk = Buffer.allocUnsafe(FLUSH_BYTES);
  let used = 0;
  let rows = 0;
  /** The stream's error, set by its listener at any await. */
  const throwIfFailed = (): void => {
    if (failure) throw failure;
  };
  const flush = async (): Promise<void> => {
    throwIfFailed();
    if (used === 0) return;
    const full = chunk.subarray(0, used);
    chunk = Buffer.allocUnsafe(FLUSH_BYTES);
    used = 0;
    if (!stream.write(full)) await drained();
    throwIfFailed();
  };
  /** Resolves on `drain`; rejects as soon as the stream fails or closes instead. */
  const drained = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      if (failure) return reject(failure);
      if (stream.destroyed) return reject(new Error(`${path} was closed while being written`));
      const settle = (e?: Error): void => {
        stream.off('drain', onDrain).off('error', onError).off('close', onClose);
        if (e) reject(e);
        else resolve();
      };
      const onDrain = (): void => settle();
      const onError = (e: Error): void => settle(e);
      const onClose = (): void => settle(failure ?? new Error(`${path} was closed while being written`));
      stream.on('drain', onDrain).on('error', onError).on('close', onClose);
    });
  return {
    async write(row) {
      throwIfFailed();
      checkRow(columns, row as Record<string, unknown>);
      const line = serialise(row as Record<string, unknown>);
      // UTF-8 needs at most 3 bytes per UTF-16 code unit.
      if (used + line.length * 3 > chunk.length) {
        await flush();
        if (line.length * 3 > chunk.length) chunk = Buffer.allocUnsafe(line.length * 3);
      }
      used += chunk.write(line, used);
      rows++;
    },
    async close() {
      await flush();
      stream.end();
      // `finished` settles even when the stream ended or failed before it was called.
      await finished(stream);
      throwIfFailed();
      return { rows };
    },
    async abort() {
      stream.destroy();
      await finished(stream).catch(() => undefined);
    },
  };
}
