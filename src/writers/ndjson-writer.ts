import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
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

/**
 * Newline-delimited JSON, streamed with backpressure; memory stays at one 64 KiB buffer. A write error (a full disk,
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
  let buffer = '';
  let rows = 0;
  /** The stream's error, set by its listener at any await. */
  const throwIfFailed = (): void => {
    if (failure) throw failure;
  };
  const flush = async (): Promise<void> => {
    throwIfFailed();
    if (buffer === '') return;
    const chunk = buffer;
    buffer = '';
    if (!stream.write(chunk)) await drained();
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
      buffer += ndjsonLine(columns, row as Record<string, unknown>);
      rows++;
      if (buffer.length >= FLUSH_BYTES) await flush();
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
