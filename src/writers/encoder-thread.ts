import { createRequire } from 'node:module';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { parentPort, workerData } from 'node:worker_threads';
import type * as ParquetWasm from 'parquet-wasm';
import { AppendOnlyFile } from './append-only-file.js';
import { ArrowIpcStream, IpcBuffer } from './arrow-ipc.js';
import type { EncoderReply, EncoderRequest } from './encoder-protocol.js';

const APPEND_BYTES = 64 * 1024;

/**
 * The Parquet encoder thread (started by encoder-pool.ts): Arrow IPC-ready column buffers in, parquet-wasm (arrow-rs)
 * `transformParquetStream` out to each file, any number of files at once. parquet-wasm is loaded from the path the
 * pool resolved, so the thread also runs from a copy outside the package (the tests' sources).
 */

interface Stream {
  ipc: ArrowIpcStream;
  controller: ReadableStreamDefaultController<ParquetWasm.RecordBatch>;
  done: Promise<void>;
}

const port = parentPort!;
const post = (
  m: EncoderReply | { type: 'ready' } | { type: 'fatal'; message: string },
  transfer: ArrayBuffer[] = [],
): void => port.postMessage(m, transfer);
const describe = (e: unknown): string => String((e as Error | undefined)?.stack ?? e);

type Wasm = typeof ParquetWasm;

const streams = new Map<number, Stream>();

function fail(id: number, e: unknown): void {
  const s = streams.get(id);
  streams.delete(id);
  try {
    s?.controller.error(e);
  } catch {
    // already closed or errored
  }
  post({ type: 'error', id, message: describe(e), code: (e as { code?: unknown } | undefined)?.code });
}

/**
 * Frees a written piece's memory at the thread's next young-generation collection. parquet-wasm hands each row group
 * (about 1.6 MB) to JavaScript as a buffer of its own; it lives through its write, long enough to reach V8's old
 * generation, whose collections are seconds apart, and meanwhile smaller allocations fill the holes such buffers
 * leave in glibc's arena (it grew from 11 to 24 MB over 10M rows). Its memory is moved to a new buffer that is dropped
 * at once (a transfer copies nothing). Measured: the arena stays at 26 MB, and 3M rows take no more CPU.
 */
function release(pieces: readonly Uint8Array[]): void {
  for (const { buffer, byteOffset, byteLength } of pieces)
    if (
      buffer instanceof ArrayBuffer &&
      byteOffset === 0 &&
      byteLength === buffer.byteLength &&
      byteLength >= APPEND_BYTES
    )
      structuredClone(buffer, { transfer: [buffer] });
}

/** The encoder's output, appended as it comes, small pieces gathered to 64 KiB (see append-only-file.ts). */
async function appendAll(file: AppendOnlyFile, bytes: WebReadableStream<Uint8Array>): Promise<void> {
  try {
    let pending: Uint8Array[] = [];
    let size = 0;
    for await (const piece of bytes) {
      pending.push(piece);
      size += piece.length;
      if (size < APPEND_BYTES) continue;
      await file.append(pending.length === 1 ? piece : Buffer.concat(pending));
      release(pending);
      pending = [];
      size = 0;
    }
    if (size > 0) await file.append(Buffer.concat(pending));
  } finally {
    await file.done();
  }
}

function open(W: Wasm, m: Extract<EncoderRequest, { type: 'open' }>): void {
  const codecs = {
    zstd: W.Compression.ZSTD,
    snappy: W.Compression.SNAPPY,
    gzip: W.Compression.GZIP,
    none: W.Compression.UNCOMPRESSED,
  };
  let builder = new W.WriterPropertiesBuilder();
  // Columns whose values rarely repeat get no dictionary: arrow-rs would build one per row group, fall back to plain
  // encoding once it is full, and keep its memory (WebAssembly memory never shrinks: 37 MB instead of 50 over 10M rows).
  for (const c of m.columns) if (c.distinct) builder = builder.setColumnDictionaryEnabled(c.name, false);
  const props = builder
    .setCompression(codecs[m.compression])
    .setMaxRowGroupSize(m.rowGroupSize)
    // Row-group min/max (what DuckDB prunes with) but no page index, whose entries the encoder keeps until the end.
    .setStatisticsEnabled(W.EnabledStatistics.Chunk)
    .setCreatedBy('ig-export (parquet-wasm / arrow-rs)')
    .build();
  let controller!: ReadableStreamDefaultController<ParquetWasm.RecordBatch>;
  const batches = new ReadableStream<ParquetWasm.RecordBatch>({ start: (c) => (controller = c) });
  const done = W.transformParquetStream(batches, props).then(async (bytes) =>
    appendAll(await AppendOnlyFile.create(m.path), bytes as WebReadableStream<Uint8Array>),
  );
  streams.set(m.id, { ipc: new ArrowIpcStream(m.columns), controller, done });
  done.catch((e: unknown) => {
    if (streams.has(m.id)) fail(m.id, e);
  });
}

/** The IPC bytes of every batch of the thread, one after the other (parquet-wasm copies them in at once). */
const ipcBuffer = new IpcBuffer();

function batch(W: Wasm, m: Extract<EncoderRequest, { type: 'batch' }>): void {
  const s = streams.get(m.id);
  if (!s) return; // failed or aborted: the error was sent
  const table = W.Table.fromIPCStream(s.ipc.write(ipcBuffer, m.length, m.columns));
  for (const b of table.recordBatches()) s.controller.enqueue(b);
  table.free();
  // The data is in the encoder's memory now: the buffers go back to the writer for its next batches.
  post({ type: 'taken', id: m.id, buffers: m.buffers }, m.buffers);
}

async function end(id: number): Promise<void> {
  const s = streams.get(id);
  if (!s) return;
  s.controller.close();
  await s.done;
  streams.delete(id);
  post({ type: 'closed', id });
}

async function abort(id: number): Promise<void> {
  const s = streams.get(id);
  streams.delete(id);
  if (s) {
    try {
      s.controller.error(new Error('aborted'));
    } catch {
      // already closed or errored
    }
    await s.done.catch(() => undefined);
  }
  post({ type: 'aborted', id });
}

function main(): void {
  const paths = workerData as { parquetWasm: string };
  // parquet-wasm's Node build is CommonJS: `require` loads it without the export scan an `import` of CommonJS makes.
  const W = createRequire(import.meta.url)(paths.parquetWasm) as Wasm;
  port.on('message', (m: EncoderRequest) => {
    const handled = (async (): Promise<void> => {
      if (m.type === 'open') open(W, m);
      else if (m.type === 'batch') batch(W, m);
      else if (m.type === 'end') await end(m.id);
      else await abort(m.id);
    })();
    handled.catch((e: unknown) => {
      if (streams.has(m.id)) fail(m.id, e);
    });
  });
  post({ type: 'ready' });
}

try {
  main();
} catch (e) {
  post({ type: 'fatal', message: describe(e) });
}
