import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import type { Clock } from '../../src/clock.js';
import { silentLogger, type Logger } from '../../src/logger.js';
import { runExport, type ExportOptions, type ExportSummary } from '../../src/pipeline/run-export.js';
import { DEFAULT_PARQUET_OPTIONS } from '../../src/writers/parquet-writer.js';
import type { Sandbox } from '../../src/sandbox/create-sandbox.js';
import { VirtualClock } from './virtual-clock.js';

/** A temporary output root, removed when the test ends. */
export async function tempDir(prefix = 'ig-export-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export function exportOptionsFor(
  sandbox: Sandbox,
  outputRoot: string,
  overrides: Partial<ExportOptions> = {},
): ExportOptions {
  return {
    baseUrl: sandbox.url,
    apiVersion: 'v23.0',
    token: sandbox.options.token,
    tokenSource: 'env',
    account: 'me',
    outputRoot,
    maxRps: 0,
    pageSize: 100,
    conversationConcurrency: 4,
    hydrateConcurrency: 8,
    retries: 5,
    timeoutMs: 10_000,
    backoff: { baseMs: 1_000, maxMs: 60_000 },
    throttleWaitMs: 60_000,
    maxThrottles: 20,
    notFoundRetries: 2,
    slowDownAbovePercent: 80,
    windowSize: 20,
    parquet: DEFAULT_PARQUET_OPTIONS,
    ...overrides,
  };
}

export async function exportSandbox(
  sandbox: Sandbox,
  outputRoot: string,
  overrides: Partial<ExportOptions> = {},
  deps: { clock?: Clock; logger?: Logger; signal?: AbortSignal } = {},
): Promise<ExportSummary> {
  return runExport(exportOptionsFor(sandbox, outputRoot, overrides), {
    clock: deps.clock ?? new VirtualClock(),
    random: () => 0.5,
    logger: deps.logger ?? silentLogger,
    signal: deps.signal,
    toolVersion: 'test',
  });
}
