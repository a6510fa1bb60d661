import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as A from 'apache-arrow';
import type { Column } from '../schema/tables.js';
import { arrowSchema, buildColumnBuffers, ScratchBuffer, type ColumnBuffers } from './arrow-batch.js';
import { checkRow } from './row-check.js';
import type { TableWriter } from './table-writer.js';

export type ParquetCompression = 'zstd' | 'snappy' | 'gzip' | 'none';

export interface ParquetWriterOptions {
  compression: ParquetCompression;
  /** Rows per row group: ~10 per million rows keeps DuckDB's pruning and parallel scan effective. */
  rowGroupSize: number;
  /** Rows per Arrow batch handed to the encoder; bounds memory. */
  batchSize: number;
}

export const DEFAULT_PARQUET_OPTIONS: ParquetWriterOptions = {
  compression: 'zstd',
  rowGroupSize: 122_880,
  batchSize: 4_096,
};

/** Arrow batches handed to the encoder and not yet taken: enough to keep both threads busy, few enough to bound memory. */
const MAX_IN_FLIGHT = 4;

/**
 * The encoder thread: Arrow IPC batches in, parquet-wasm (arrow-rs) `transformParquetStream` out to the file.
 * Plain JavaScript run with `eval`, so it works from the compiled build and from the TypeScript sources alike.
 */
const ENCODER = `
const { parentPort, workerData } = require('node:worker_threads');
const { createWriteStream } = require('node:fs');
const { Readable } = require('node:stream');
const { pipeline } = require('node:stream/promises');
(async () => {
  const A = await import(workerData.apacheArrow);
  const W = await import(workerData.parquetWasm);
  const schema = A.tableFromIPC(new Uint8Array(workerData.schemaIpc)).schema;
  const codecs = { zstd: W.Compression.ZSTD, snappy: W.Compression.SNAPPY, gzip: W.Compression.GZIP, none: W.Compression.UNCOMPRESSED };
  const props = new W.WriterPropertiesBuilder()
    .setCompression(codecs[workerData.compression])
    .setMaxRowGroupSize(workerData.rowGroupSize)
    // Row-group min/max (what DuckDB prunes with) but no page index, whose entries the encoder keeps until the end.
    .setStatisticsEnabled(W.EnabledStatistics.Chunk)
    .setCreatedBy('ig-export (parquet-wasm / arrow-rs)')
    .build();
  let controller;
  const batches = new ReadableStream({ start: (c) => { controller = c; } });
  const done = W.transformParquetStream(batches, props).then((bytes) =>
    pipeline(Readable.fromWeb(bytes), createWriteStream(workerData.path, { flags: 'wx' })));
  const fail = (e) => parentPort.postMessage({ type: 'error', message: String((e && e.stack) || e), code: e && e.code });
  done.catch(fail);
  parentPort.on('message', async (message) => {
    try {
      if (message.type === 'batch') {
        const { length, columns } = message;
        // A list column carries its values as a child column of their own length.
        const toData = (type, n, c) => c.child
          ? A.makeData({ type, length: n, nullCount: c.nullCount, nullBitmap: c.nullBitmap, valueOffsets: c.valueOffsets,
              child: toData(type.children[0].type, c.child.length, c.child) })
          : A.makeData({ type, length: n, ...c });
        const children = schema.fields.map((field, i) => toData(field.type, length, columns[i]));
        const batch = new A.RecordBatch(schema, A.makeData({ type: new A.Struct(schema.fields), length, nullCount: 0, children }));
        const table = W.Table.fromIPCStream(A.tableToIPC(new A.Table(batch), 'stream'));
        for (const b of table.recordBatches()) controller.enqueue(b);
        table.free();
        parentPort.postMessage({ type: 'taken' });
      } else if (message.type === 'end') {
        controller.close();
        await done;
        parentPort.postMessage({ type: 'closed' });
      }
    } catch (e) {
      fail(e);
    }
  });
  parentPort.postMessage({ type: 'ready' });
})().catch((e) => parentPort.postMessage({ type: 'error', message: String((e && e.stack) || e) }));
`;

const resolve = createRequire(import.meta.url).resolve;
const parquetWasmPath = pathToFileURL(resolve('parquet-wasm')).href;
const apacheArrowPath = pathToFileURL(resolve('apache-arrow')).href;

/**
 * Streaming Parquet through apache-arrow and parquet-wasm (arrow-rs): row groups are written as rows arrive, so
 * memory stays flat however large the export. This thread builds Arrow batches while a worker thread encodes the
 * previous ones (the two overlap on two cores). arrow-rs writes UTF-8 min/max statistics in byte order, which
 * parquetjs-lite gets wrong (see README, "Parquet writer").
 */
export function createParquetWriter<Row extends object>(
  path: string,
  columns: readonly Column[],
  options: ParquetWriterOptions = DEFAULT_PARQUET_OPTIONS,
): TableWriter<Row> {
  const schema = arrowSchema(columns);
  const worker = new Worker(ENCODER, {
    eval: true,
    // A small young generation keeps the encoder's heap (and so the process RSS) flat however many batches pass.
    resourceLimits: { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 256 },
    workerData: {
      path,
      parquetWasm: parquetWasmPath,
      apacheArrow: apacheArrowPath,
      schemaIpc: A.tableToIPC(new A.Table(schema), 'stream'),
      compression: options.compression,
      rowGroupSize: options.rowGroupSize,
    },
  });
  let inFlight = 0;
  let failure: Error | undefined;
  const waiters: Array<() => void> = [];
  let closed: (() => void) | undefined;
  const wake = (): void => {
    for (const w of waiters.splice(0)) w();
  };
  worker.on('message', (m: { type: string; message?: string; code?: unknown }) => {
    if (m.type === 'taken') inFlight--;
    else if (m.type === 'closed') closed?.();
    else if (m.type === 'error') {
      const error = new Error(`Parquet encoder failed for ${path}: ${m.message ?? ''}`);
      // A file system error (a full disk) keeps its code and names the file: the CLI reports it as exit 8.
      failure ??=
        typeof m.code === 'string' ? Object.assign(error, { code: m.code, path, syscall: 'write' }) : error;
      // Nothing more will come of this encoder: stop its thread now, so the process can exit.
      void stop();
    }
    wake();
  });
  let stopped: Promise<number> | undefined;
  const stop = (): Promise<number> => {
    // Only our own listener: `terminate()` waits for 'exit' with one of its own, which must stay.
    worker.off('exit', onExit);
    stopped ??= worker.terminate();
    return stopped;
  };
  worker.on('error', (e) => {
    failure ??= e;
    void stop();
    wake();
  });
  const onExit = (): void => {
    failure ??= new Error(`Parquet encoder for ${path} stopped`);
    wake();
  };
  worker.on('exit', onExit);
  const until = async (ready: () => boolean): Promise<void> => {
    while (!ready() && !failure) await new Promise<void>((r) => waiters.push(r));
    if (failure) throw failure;
  };

  let pending: Record<string, unknown>[] = [];
  let rows = 0;
  const scratch = new ScratchBuffer();
  const send = async (batchRows: readonly Record<string, unknown>[]): Promise<void> => {
    const columnBuffers = buildColumnBuffers(columns, batchRows, scratch);
    await until(() => inFlight < MAX_IN_FLIGHT);
    inFlight++;
    // The buffers move to the encoder thread (transferred, not copied); Arrow assembly and encoding happen there.
    const buffersOf = (b: ColumnBuffers): ArrayBuffer[] => [
      ...[b.nullBitmap, b.valueOffsets, b.data].flatMap((a) =>
        a === undefined ? [] : [a.buffer as ArrayBuffer],
      ),
      ...(b.child ? buffersOf(b.child) : []),
    ];
    const transfer = columnBuffers.flatMap(buffersOf);
    worker.postMessage({ type: 'batch', length: batchRows.length, columns: columnBuffers }, [
      ...new Set(transfer),
    ]);
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
      let isClosed = false;
      closed = () => {
        isClosed = true;
      };
      worker.postMessage({ type: 'end' });
      try {
        await until(() => isClosed);
      } finally {
        await stop();
      }
      return { rows };
    },
    async abort() {
      await stop();
    },
  };
}
