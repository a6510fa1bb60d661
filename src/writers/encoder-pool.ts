import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { Worker } from 'node:worker_threads';
import type * as TypeScript from 'typescript';
import type { EncoderReply, EncoderRequest } from './encoder-protocol.js';

/**
 * The Parquet encoder threads of the process, shared by every Parquet file it writes. Starting a thread costs about
 * 0.2 s of CPU (parquet-wasm is loaded and its 5 MB WASM module compiled in each): once per file
 * that was most of a small export's cost, and with many files at once (a fleet) most of its memory. So at most
 * `size` threads are started, each encodes any number of files at once (one stream each), and an idle thread
 * does not keep the process alive. The thread itself is encoder-thread.ts; the messages, encoder-protocol.ts.
 */

/** The thread's own files (its other imports of our files are types only). */
const THREAD_MODULES = ['encoder-thread', 'append-only-file', 'arrow-ipc'];

/**
 * The thread's sources transpiled, for when the TypeScript sources run (the tests): into a folder under the
 * package's node_modules (so the thread's imports of packages, p-limit, resolve from there) named after the sources'
 * digest, written once and renamed into place (test workers start at once).
 */
function transpiledThread(sourceDir: string): string {
  const ts = createRequire(import.meta.url)('typescript') as typeof TypeScript;
  const sources = THREAD_MODULES.map((name) => readFileSync(join(sourceDir, `${name}.ts`), 'utf8'));
  const digest = createHash('sha256').update(sources.join('\0')).digest('hex').slice(0, 16);
  const pLimitMain = createRequire(import.meta.url).resolve('p-limit');
  const cache = join(pLimitMain.slice(0, pLimitMain.lastIndexOf(`${sep}p-limit${sep}`)), '.cache');
  const dir = join(cache, `ig-export-encoder-${digest}`);
  const file = join(dir, 'encoder-thread.js');
  if (existsSync(file)) return file;
  mkdirSync(cache, { recursive: true });
  const staging = mkdtempSync(`${dir}.tmp-`);
  writeFileSync(join(staging, 'package.json'), '{"type":"module"}');
  THREAD_MODULES.forEach((name, i) => {
    const js = ts.transpileModule(sources[i]!, {
      compilerOptions: {
        module: ts.ModuleKind.ES2022,
        target: ts.ScriptTarget.ES2023,
        verbatimModuleSyntax: true,
      },
    }).outputText;
    writeFileSync(join(staging, `${name}.js`), js);
  });
  try {
    renameSync(staging, dir);
  } catch {
    rmSync(staging, { recursive: true, force: true }); // another process put the same files in place first
  }
  return file;
}

/** The thread's script: the compiled file beside this one, or the sources transpiled (the tests). */
let threadScript: URL | undefined;
function encoderThreadScript(): URL {
  if (threadScript) return threadScript;
  const here = fileURLToPath(import.meta.url);
  if (!here.endsWith('.ts')) return (threadScript = new URL('./encoder-thread.js', import.meta.url));
  return (threadScript = pathToFileURL(transpiledThread(dirname(here))));
}

const resolve = createRequire(import.meta.url).resolve;
const parquetWasmPath = resolve('parquet-wasm');

/** What the encoder thread says about one stream. */
export type EncoderMessage = EncoderReply;

/** A request about one stream, without its id (the stream adds it). */
export type StreamRequest = EncoderRequest extends infer R
  ? R extends { id: number }
    ? Omit<R, 'id'>
    : never
  : never;

/** One file being encoded: messages for it arrive here; `lost` is called if its thread dies. */
export interface StreamListener {
  onMessage(m: EncoderMessage): void;
  onThreadLost(e: Error): void;
}

/** A stream on a pooled thread: post its messages, and release it when done (closed, aborted or failed). */
export interface EncoderStream {
  readonly id: number;
  post(message: StreamRequest, transfer?: ArrayBuffer[]): void;
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
    const worker = new Worker(encoderThreadScript(), {
      // A small young generation keeps the encoder's heap (and so the process RSS) flat however many batches pass.
      resourceLimits: { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 512 },
      workerData: { parquetWasm: parquetWasmPath },
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

/** How many encoder threads the process starts at most (fewer on a machine with fewer cores). */
export const MAX_ENCODER_THREADS = 2;

/** The process's pool: two threads at most (the pipeline thread builds batches while they encode). */
export const encoderPool = new EncoderPool(
  Math.max(1, Math.min(MAX_ENCODER_THREADS, availableParallelism())),
);
