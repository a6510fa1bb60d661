import type { ManifestInput } from '../../src/pipeline/publishing/manifest-builder.js';
import type { RunInfo } from '../../src/pipeline/publishing/snapshot-sequence.js';
import { SnapshotTally } from '../../src/pipeline/publishing/snapshot-tally.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { mergeSettings, toExportOptions } from '../../src/cli/export-settings.js';
import type { Clock } from '../../src/clock.js';
import { silentLogger, type Logger } from '../../src/logger.js';
import type { GraphClientSettings } from '../../src/graph/client.js';
import {
  runExport,
  type ExportOptions,
  type ExportSummary,
  type RunOptions,
} from '../../src/pipeline/run-export.js';
import type { OnProgress } from '../../src/pipeline/extensions/export-progress.js';
import type { Custody } from '../../src/snapshots/manifest.js';
import type { Sandbox } from '../../src/sandbox/create-sandbox.js';
import { VirtualClock } from './virtual-clock.js';

/** What the manifests of test runs record about who ran them. */
export const TEST_CUSTODY: Custody = {
  os_user: 'tester',
  host: 'test-host',
  command_line: ['ig-export', 'export'],
  node_version: process.version,
  lockfile_sha256: null,
};

/** The run facts a snapshot sequence or manifest is given in unit tests. */
export const TEST_RUN_INFO: RunInfo = {
  runId: 'r',
  runStartedMs: 0,
  mode: 'full',
  resumedFromRunId: undefined,
  accountId: '1',
  accountUsername: undefined,
  toolVersion: 'test',
  baseUrl: 'http://x',
  apiVersion: 'v23.0',
  options: {},
  windowSize: 20,
  custody: TEST_CUSTODY,
  filters: { user_id: null, since: null, until: null },
  media: false,
  redactor: undefined,
};

/** A temporary output root, removed when the test ends. */
export async function tempDir(prefix = 'ig-export-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * The CLI's defaults pointed at a sandbox, unpaced (tests that need pacing set maxRps) and with fast backoff.
 * Hydration is one call per message, whose call counts most tests state exactly; the strategy tests
 * (test/integration/hydration-strategy.test.ts) set `hydrate` themselves.
 */
/** Overrides of a test's export options, group by group. */
export interface ExportOverrides {
  client?: Partial<GraphClientSettings>;
  run?: Partial<RunOptions>;
}

export function exportOptionsFor(
  sandbox: Sandbox,
  outputRoot: string,
  overrides: ExportOverrides = {},
): ExportOptions {
  const settings = mergeSettings({}, { output: outputRoot, 'base-url': sandbox.url });
  const options = toExportOptions(settings, { token: sandbox.options.token, source: 'env' });
  return {
    client: { ...options.client, maxRps: 0, timeoutMs: 10_000, ...overrides.client },
    run: {
      ...options.run,
      conversationConcurrency: 4,
      hydrateConcurrency: 8,
      hydrate: 'per-message',
      ...overrides.run,
    },
    parquet: options.parquet,
  };
}

export async function exportSandbox(
  sandbox: Sandbox,
  outputRoot: string,
  overrides: ExportOverrides = {},
  deps: { clock?: Clock; logger?: Logger; signal?: AbortSignal; onProgress?: OnProgress } = {},
): Promise<ExportSummary> {
  return runExport(exportOptionsFor(sandbox, outputRoot, overrides), {
    clock: deps.clock ?? new VirtualClock(),
    random: () => 0.5,
    logger: deps.logger ?? silentLogger,
    signal: deps.signal,
    toolVersion: 'test',
    custody: TEST_CUSTODY,
    onProgress: deps.onProgress,
  });
}

/** A manifest's input in unit tests: the final, complete snapshot of TEST_RUN_INFO, with no rows and no calls. */
export function testManifestInput(over: Partial<ManifestInput> = {}): ManifestInput {
  const noCalls = () => ({ calls: {}, failures: {}, retries: {}, throttles: 0, throttleWaitMs: 0 });
  return {
    run: TEST_RUN_INFO,
    tally: new SnapshotTally(),
    snapshotId: '20261202T000000.000Z',
    index: 1,
    final: true,
    stopReason: undefined,
    startedMs: 1_000,
    endedMs: 2_000,
    files: {},
    metrics: noCalls(),
    metricsAtOpen: noCalls(),
    hydration: null,
    ...over,
  };
}
