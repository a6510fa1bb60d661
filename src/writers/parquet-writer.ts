import type { Column } from '../schema/tables.js';
import { BatchMemory, buildColumnBuffers } from './arrow-batch.js';
import { encoderPool, type EncoderMessage } from './encoder-pool.js';
import { DEFAULT_PARQUET_OPTIONS, type ParquetWriterOptions } from './parquet-options.js';
import { checkRow } from './row-check.js';
import type { TableWriter } from './table-writer.js';

export {
  DEFAULT_PARQUET_OPTIONS,
  type ParquetCompression,
  type ParquetWriterOptions,
} from './parquet-options.js';

/** Arrow batches handed to the encoder and not yet taken: enough to keep both threads busy, few enough to bound memory. */
const MAX_IN_FLIGHT = 4;

/**
 * Lets the event loop run once. V8 finishes a garbage collection's marking in a task; rows that come from memory (no
 * I/O between them) would hold those tasks off until the encoder falls 4 batches behind, and meanwhile the old
 * generation grows past its limit. Yielding once per batch: 10M rows peak at 188 MB instead of 199, at the same speed
 * (three alternated pairs, 2026-12-03).
 */
const turnOfTheEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Streaming Parquet through parquet-wasm (arrow-rs): row groups are written as rows arrive, so memory stays flat
 * however large the export. This thread lays rows out as Arrow column buffers while a worker thread writes the
 * previous ones as Arrow IPC (arrow-ipc.ts) and encodes them (the two overlap on two cores). arrow-rs writes UTF-8
 * min/max statistics in byte order, which parquetjs-lite gets wrong (see README, "Parquet writer").
 */
export function createParquetWriter<Row extends object>(
  path: string,
  columns: readonly Column[],
  options: ParquetWriterOptions = DEFAULT_PARQUET_OPTIONS,
): TableWriter<Row> {
  let inFlight = 0;
  const memory = new BatchMemory();
  let failure: Error | undefined;
  let closed = false;
  let ended = false;
  const waiters: Array<() => void> = [];
  const wake = (): void => {
    for (const w of waiters.splice(0)) w();
  };
  const stream = encoderPool.open({
    onMessage(m: EncoderMessage) {
      if (m.type === 'taken') {
        inFlight--;
        memory.recycle(m.buffers ?? []);
      } else if (m.type === 'closed' || m.type === 'aborted') {
        closed = true;
        stream.release();
      } else if (m.type === 'error') {
        const error = new Error(`Parquet encoder failed for ${path}: ${m.message ?? ''}`);
        // A file system error (a full disk) keeps its code and names the file: the CLI reports it as exit 8.
        failure ??=
          typeof m.code === 'string' ? Object.assign(error, { code: m.code, path, syscall: 'write' }) : error;
        // Nothing more will come of this file; its thread goes on with the others.
        stream.release();
      }
      wake();
    },
    onThreadLost(e: Error) {
      failure ??= new Error(`Parquet encoder for ${path} stopped: ${e.message}`);
      wake();
    },
  });
  stream.post({
    type: 'open',
    path,
    columns,
    compression: options.compression,
    rowGroupSize: options.rowGroupSize,
  });
  const until = async (ready: () => boolean): Promise<void> => {
    while (!ready() && !failure) await new Promise<void>((r) => waiters.push(r));
    if (failure) throw failure;
  };

  let pending: Record<string, unknown>[] = [];
  let rows = 0;
  const send = async (batchRows: readonly Record<string, unknown>[]): Promise<void> => {
    const length = batchRows.length;
    const columnBuffers = buildColumnBuffers(columns, batchRows, memory);
    const buffers = memory.takeBatch();
    await turnOfTheEventLoop();
    await until(() => inFlight < MAX_IN_FLIGHT);
    inFlight++;
    // The buffers move to the encoder thread (transferred, not copied) and come back once it has taken the batch.
    stream.post({ type: 'batch', length, columns: columnBuffers, buffers }, buffers);
  };

  return {
    async write(row) {
      if (failure) throw failure;
      checkRow(columns, row as Record<string, unknown>);
      pending.push(row as Record<string, unknown>);
      rows++;
      if (pending.length >= options.batchSize) {
        const batch = pending;
        pending = [];
        await send(batch);
      }
    },
    async close() {
      // An empty table still gets its schema into the file: the encoder needs at least one (empty) batch.
      if (pending.length > 0 || rows === 0) await send(pending);
      pending = [];
      ended = true;
      stream.post({ type: 'end' });
      await until(() => closed);
      return { rows };
    },
    async abort() {
      if (closed || failure) return;
      if (!ended) stream.post({ type: 'abort' });
      ended = true;
      // The thread stops the file and says so; a thread lost meanwhile ends the wait too.
      await until(() => closed).catch(() => undefined);
    },
  };
}
