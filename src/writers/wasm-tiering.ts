import { setFlagsFromString } from 'node:v8';

/**
 * V8 recompiles the WebAssembly functions that run hot (parquet-wasm's encoder, undici's HTTP parser) with its
 * optimising compiler on background threads. For a small export that cost 0.3 s of CPU (one zstd function alone took
 * 183 ms to compile), more than the encoding it sped up. A budget 100 times V8's default (1.8M "bytes executed")
 * leaves short work to the baseline code, while a long write still tiers up its hot loops (the writer bench runs with
 * it). The setting is process-wide and taken when WebAssembly is first compiled: the CLI sets it first thing.
 */
export function tierUpWasmLater(): void {
  setFlagsFromString('--wasm-tiering-budget=180000000');
}
