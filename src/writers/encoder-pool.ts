import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * The Parquet encoder threads of the process, shared by every Parquet file it writes. Starting a thread costs about
 * 0.3 s of CPU (apache-arrow and parquet-wasm are loaded and the 5 MB WASM module compiled in each): once per file
 * that was most of a small export's cost, and with many files at once (a fleet) most of its memory. So at most
 * `size` threads are started, each encodes any number of files at once (one stream each), and an idle thread
 * does not keep the process alive.
 *
 * The thread: Arrow IPC-ready column buffers in, parquet-wasm (arrow-rs) `transformParquetStream` out to each
 * file. Plain JavaScript run with `eval`, so it works from the compiled build and from the TypeScript sources alike.
 */
const ENCODER = `
const { parentPort, workerData } = require('node:worker_threads');
const { createWriteStream } = require('node:fs');
const { Readable } = require('node:stream');
const { pipeline } = require('node:stream/promises');
(async () => {
  const A = await import(workerData.apacheArrow);
  const W = await import(workerData.parquetWasm);
  const codecs = { zstd: W.Compression.ZSTD, snappy: W.Compression.SNAPPY, gzip: W.Compression.GZIP, none: W.Compression.UNCOMPRESSED };
  const streams = new Map();
  const post = (m) => parentPort.postMessage(m);
  const fail = (id, e) => {
    const s = streams.get(id);
    streams.delete(id);
    if (s) { try { s.controller.error(e); } catch {} }
    post({ type: 'error', id, message: String((e && e.stack) || e), code: e && e.code });
  };
  // A list column carries its values as a child column of their own length.
  const toData = (type, n, c) => c.child
    ? A.makeData({ type, length: n, nullCount: c.nullCount, nullBitmap: c.nullBitmap, valueOffsets: c.valueOffsets,
        child: toData(type.children[0].type, c.child.length, c.child) })
    : A.makeData({ type, length: n, ...c });
  parentPort.on('message', async (m) => {
    const id = m.id;
    try {
      if (m.type === 'open') {
        const schema = A.tableFromIPC(new Uint8Array(m.schemaIpc)).schema;
        const props = new W.WriterPropertiesBuilder()
          .setCompression(codecs[m.compression])
          .setMaxRowGroupSize(m.rowGroupSize)
          // Row-group min/max (what DuckDB prunes with) but no page index, whose entries the encoder keeps until the end.
          .setStatisticsEnabled(W.EnabledStatistics.Chunk)
          .setCreatedBy('ig-export (parquet-wasm / arrow-rs)')
          .build();
        let controller;
        const batches = new ReadableStream({ start: (c) => { controller = c; } });
        const done = W.transformParquetStream(batches, props).then((bytes) =>
          pipeline(Readable.fromWeb(bytes), createWriteStream(m.path, { flags: 'wx' })));
        streams.set(id, { schema, controller, done });
        done.catch((e) => { if (streams.has(id)) fail(id, e); });
      } else if (m.type === 'batch') {
        const s = streams.get(id);
        if (!s) return; // failed or aborted: the error was sent
        const children = s.schema.fields.map((field, i) => toData(field.type, m.length, m.columns[i]));
        const batch = new A.RecordBatch(s.schema, A.makeData({ type: new A.Struct(s.schema.fields), length: m.length, nullCount: 0, children }));
        const table = W.Table.fromIPCStream(A.tableToIPC(new A.Table(batch), 'stream'));
        for (const b of table.recordBatches()) s.controller.enqueue(b);
        table.free();
        post({ type: 'taken', id });
      } else if (m.type === 'end') {
        const s = streams.get(id);
        if (!s) return;
        s.controller.close();
        await s.done;
        streams.delete(id);
        post({ type: 'closed', id });
      } else if (m.type === 'abort') {
        const s = streams.get(id);
        streams.delete(id);
        if (s) {
          try { s.controller.error(new Error('aborted')); } catch {}
          await s.done.catch(() => undefined);
        }
        post({ type: 'aborted', id });
      }
    } catch (e) {
      if (streams.has(id)) fail(id, e);
    }
  });
  post({ type: 'ready' });
})().catch((e) => parentPort.postMessage({ type: 'fatal', message: String((e && e.stack) || e) }));
`;

const resolve = createRequire(import.meta.url).resolve;
const parquetWasmPath = pathToFileURL(resolve('parquet-wasm')).href;
const apacheArrowPath = pathToFileURL(resolve('apache-arrow')).href;

/** What the encoder thread says about one stream. */
export interface EncoderMessage {
  type: 'taken' | 'closed' | 'aborted' | 'error';
  id: number;
  message?: string;
  code?: unknown;
}

/** One file being encoded: messages for it arrive here; `lost` is called if its thread dies. */
export interface StreamListener {
  onMessage(m: EncoderMessage): void;
  onThreadLost(e: Error): void;
}

/** A stream on a pooled thread: post its messages, and release it when done (closed, aborted or failed). */
export interface EncoderStream {
  readonly id: number;
  post(message: Record<string, unknown>, transfer?: ArrayBuffer[]): void;
  release(): void;
}

interface PooledThread {
  worker: Worker;
  streams: Map<number, StreamListener>;
}

class EncoderPool {
  private readonly threads: PooledThread[] = [];
  private nextId = 1;

  constructor(private readonly size: number) {}

  /**
   * A stream on the least busy thread. Another thread is started (up to `size`) only when every running one already
   * encodes two files: a snapshot's small conversations file rides along with its messages file.
   */
  open(listener: StreamListener): EncoderStream {
    const least = this.threads.reduce<PooledThread | undefined>(
      (a, b) => (a === undefined || b.streams.size < a.streams.size ? b : a),
      undefined,
    );
    const thread =
      least === undefined || (least.streams.size >= 2 && this.threads.length < this.size)
        ? this.start()
        : least;
    const id = this.nextId++;
    thread.streams.set(id, listener);
    // A thread with files to finish keeps the process alive; an idle one does not.
    thread.worker.ref();
    return {
      id,
      post: (message, transfer) => thread.worker.postMessage({ ...message, id }, transfer ?? []),
      release: () => {
        if (!thread.streams.delete(id)) return;
        if (thread.streams.size === 0) thread.worker.unref();
      },
    };
  }

  private start(): PooledThread {
    const worker = new Worker(ENCODER, {
      eval: true,
      // A small young generation keeps the encoder's heap (and so the process RSS) flat however many batches pass.
      resourceLimits: { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 512 },
      workerData: { parquetWasm: parquetWasmPath, apacheArrow: apacheArrowPath },
    });
    const thread: PooledThread = { worker, streams: new Map() };
    const lost = (e: Error): void => {
      const i = this.threads.indexOf(thread);
      if (i >= 0) this.threads.splice(i, 1);
      const listeners = [...thread.streams.values()];
      thread.streams.clear();
      for (const l of listeners) l.onThreadLost(e);
    };
    worker.on('message', (m: EncoderMessage | { type: 'ready' } | { type: 'fatal'; message: string }) => {
      if (m.type === 'ready') return;
      if (m.type === 'fatal') {
        lost(new Error(`the Parquet encoder could not start: ${m.message}`));
        void worker.terminate();
        return;
      }
      thread.streams.get(m.id)?.onMessage(m);
    });
    worker.on('error', (e) => lost(e));
    worker.on('exit', (code) => lost(new Error(`the Parquet encoder thread stopped (exit code ${code})`)));
    worker.unref();
    this.threads.push(thread);
    return thread;
  }
}

/** The process's pool: two threads at most (the pipeline thread builds batches while they encode). */
export const encoderPool = new EncoderPool(Math.max(1, Math.min(2, availableParallelism())));
