import type { Column } from '../schema/tables.js';
import { AppendOnlyFile } from './append-only-file.js';
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
 * Newline-delimited JSON, appended in 64 KiB chunks: one chunk fills while the one before it is written, and the
 * file keeps its descriptor between chunks only while no other file needs one (see append-only-file.ts), so a fleet
 * of accounts holds a bounded number of table files open. Memory stays at two chunks (or one line, when longer). A
 * failure to create or write the file (it exists, a link, a full disk, an I/O error) is kept and thrown by the next
 * `write` or `close`.
 */
export function createNdjsonWriter<Row extends object>(
  path: string,
  columns: readonly Column[],
): TableWriter<Row> {
  const file = AppendOnlyFile.create(path);
  let failure: Error | undefined;
  const keep = (e: unknown): void => void (failure ??= e instanceof Error ? e : new Error(String(e)));
  file.catch(keep);
  const serialise = ndjsonSerializer(columns);
  // Each line is encoded into the chunk as it comes: one long string of concatenated lines would be flattened and
  // encoded in one piece at every flush, which cost more than serialising the rows.
  let chunk = Buffer.allocUnsafe(FLUSH_BYTES);
  /** The chunk being written, filled again once that write is done. */
  let spare = Buffer.allocUnsafe(FLUSH_BYTES);
  let used = 0;
  let rows = 0;
  let writing: Promise<void> = Promise.resolve();
  const throwIfFailed = (): void => {
    if (failure) throw failure;
  };
  const flush = async (): Promise<void> => {
    await writing;
    throwIfFailed();
    if (used === 0) return;
    const full = chunk.subarray(0, used);
    writing = file.then((f) => f.append(full)).catch(keep);
    // A chunk grown for one long line is not kept: the next one is the usual size again.
    [chunk, spare] = [spare, chunk.length > FLUSH_BYTES ? Buffer.allocUnsafe(FLUSH_BYTES) : chunk];
    used = 0;
  };
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
      await writing;
      await (await file).done();
      throwIfFailed();
      return { rows };
    },
    async abort() {
      await writing;
      await file.then((f) => f.done()).catch(() => undefined);
    },
  };
}
