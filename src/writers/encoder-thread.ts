import { createRequire } from 'node:module';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { parentPort, workerData } from 'node:worker_threads';
import type * as Arrow from 'apache-arrow';
import type * as ParquetWasm from 'parquet-wasm';
import type { Column } from '../schema/tables.js';
import type { ColumnBuffers } from './arrow-batch.js';
import { AppendOnlyFile } from './append-only-file.js';
import type { EncoderReply, EncoderRequest } from './encoder-protocol.js';

const APPEND_BYTES = 64 * 1024;

/**
 * The Parquet encoder thread (started by encoder-pool.ts): Arrow IPC-ready column buffers in, parquet-wasm (arrow-rs)
 * `transformParquetStream` out to each file, any number of files at once. apache-arrow and parquet-wasm are loaded
 * from the paths the pool resolved, so the thread also runs from a copy outside the package (the tests' sources).
 */

interface Stream {
  schema: Arrow.Schema;
  controller: ReadableStreamDefaultController<ParquetWasm.RecordBatch>;
  done: Promise<void>;
}

const port = parentPort!;
const post = (
  m: EncoderReply | { type: 'ready' } | { type: 'fatal'; message: string },
  transfer: ArrayBuffer[] = [],
): void => port.postMessage(m, transfer);
const describe = (e: unknown): string => String((e as Error | undefined)?.stack ?? e);

/** The two libraries, loaded from the paths the pool resolved. */
interface Libraries {
  A: typeof Arrow;
  W: typeof ParquetWasm;
}

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

/** The Arrow schema of a table: TIMESTAMP(ms, UTC), UTF-8 strings, INT32, BOOLEAN, nullability from the schema. */
function arrowSchema({ A }: Libraries, columns: readonly Column[]): Arrow.Schema {
  const typeOf = (c: Column): Arrow.DataType => {
    switch (c.type) {
      case 'string':
      case 'json':
        return new A.Utf8();
      case 'int32':
        return new A.Int32();
      case 'boolean':
        return new A.Bool();
      case 'timestamp':
        return new A.TimestampMillisecond('UTC');
      case 'string_list':
        return new A.List(new A.Field('item', new A.Utf8(), true));
    }
  };
  return new A.Schema(columns.map((c) => new A.Field(c.name, typeOf(c), c.nullable)));
}

/** A list column carries its values as a child column of their own length. */
function toData(libs: Libraries, type: Arrow.DataType, n: number, c: ColumnBuffers): Arrow.Data {
  const { A } = libs;
  if (!c.child) return A.makeData({ type, length: n, ...c } as Parameters<typeof A.makeData>[0]);
  const list = type as Arrow.List;
  return A.makeData({
    type: list,
    length: n,
    nullCount: c.nullCount,
    nullBitmap: c.nullBitmap,
    valueOffsets: c.valueOffsets!,
    child: toData(libs, list.children[0]!.type as Arrow.DataType, c.child.length, c.child),
  });
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
      pending = [];
      size = 0;
    }
    if (size > 0) await file.append(Buffer.concat(pending));
  } finally {
    await file.done();
  }
}

function open(libs: Libraries, m: Extract<EncoderRequest, { type: 'open' }>): void {
  const { W } = libs;
  const codecs = {
    zstd: W.Compression.ZSTD,
    snappy: W.Compression.SNAPPY,
    gzip: W.Compression.GZIP,
    none: W.Compression.UNCOMPRESSED,
  };
  const schema = arrowSchema(libs, m.columns);
  const props = new W.WriterPropertiesBuilder()
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
  streams.set(m.id, { schema, controller, done });
  done.catch((e: unknown) => {
    if (streams.has(m.id)) fail(m.id, e);
  });
}

function batch(libs: Libraries, m: Extract<EncoderRequest, { type: 'batch' }>): void {
  const { A, W } = libs;
  const s = streams.get(m.id);
  if (!s) return; // failed or aborted: the error was sent
  const children = s.schema.fields.map((field, i) =>
    toData(libs, field.type as Arrow.DataType, m.length, m.columns[i]!),
  );
  const data = A.makeData({ type: new A.Struct(s.schema.fields), length: m.length, nullCount: 0, children });
  const table = W.Table.fromIPCStream(A.tableToIPC(new A.Table(new A.RecordBatch(s.schema, data)), 'stream'));
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
  const paths = workerData as { apacheArrow: string; parquetWasm: string };
  // Both are CommonJS files (apache-arrow's one-file build, parquet-wasm's Node build): `require` loads them without
  // the export scan an `import` of CommonJS makes, which costs this thread about 50 ms at start.
  const load = createRequire(import.meta.url);
  const libs: Libraries = {
    A: load(paths.apacheArrow) as typeof Arrow,
    W: load(paths.parquetWasm) as typeof ParquetWasm,
  };
  port.on('message', (m: EncoderRequest) => {
    const handled = (async (): Promise<void> => {
      if (m.type === 'open') open(libs, m);
      else if (m.type === 'batch') batch(libs, m);
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
