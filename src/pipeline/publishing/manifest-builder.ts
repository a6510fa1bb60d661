import type { ClientMetrics } from '../../graph/client.js';
import type { FileEntry, Manifest, StopReason } from '../../snapshots/manifest.js';
import { lossReport } from '../extensions/loss-report.js';
import type { HydrationReport } from '../hydration-strategy.js';
import { REDACTED_COLUMNS } from '../redaction.js';
import type { RunInfo } from './snapshot-sequence.js';
import type { SnapshotTally } from './snapshot-tally.js';

/** What changed in a counter map since the snapshot opened (only what grew). */
function diff(now: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(now)) if (v - (before[k] ?? 0) > 0) out[k] = v - (before[k] ?? 0);
  return out;
}

export interface ManifestInput {
  run: RunInfo;
  tally: SnapshotTally;
  snapshotId: string;
  /** Its place in the run (0 = first) and whether it is the run's last. */
  index: number;
  final: boolean;
  stopReason: StopReason | undefined;
  startedMs: number;
  endedMs: number;
  files: Record<string, FileEntry>;
  /** The client's metrics now, and when the snapshot opened: the manifest records its own share. */
  metrics: ClientMetrics;
  metricsAtOpen: ClientMetrics;
  hydration: HydrationReport | null;
}

/** A snapshot's manifest, from its tally and the run's facts: a pure function (the report file is added after). */
export function buildManifest(i: ManifestInput): Manifest {
  const { run, tally, metrics: m, metricsAtOpen: before } = i;
  const calls = diff(m.calls, before.calls);
  const windowed = run.filters.since !== null || run.filters.until !== null;
  return {
    manifest_version: 2,
    status: i.stopReason === undefined && tally.failuresTotal === 0 ? 'complete' : 'partial',
    stop_reason: i.stopReason ?? null,
    run_id: run.runId,
    snapshot_id: i.snapshotId,
    checkpoint: { index: i.index, final: i.final },
    mode: run.mode,
    resumed_from_run_id: run.resumedFromRunId ?? null,
    skipped_conversations: tally.skipped,
    account_id: run.accountId,
    account_username: run.accountUsername ?? null,
    run_started_at: new Date(run.runStartedMs).toISOString(),
    started_at: new Date(i.startedMs).toISOString(),
    ended_at: new Date(i.endedMs).toISOString(),
    tool: { name: 'ig-export', version: run.toolVersion },
    api: { base_url: run.baseUrl, version: run.apiVersion },
    custody: run.custody,
    filters: run.filters,
    redaction: run.redactor
      ? {
          method: 'HMAC-SHA-256',
          key_id: run.redactor.keyId,
          hashed: [...REDACTED_COLUMNS.hashed],
          dropped: [...REDACTED_COLUMNS.dropped],
        }
      : null,
    window_savings: windowed ? { ...tally.savings } : null,
    options: run.options,
    files: i.files,
    counts: { ...tally.counts },
    media: run.media ? { ...tally.media } : null,
    conversations: [...tally.perConversation.values()].map((a) => ({
      ...a,
      listed: a.rows + a.outside_time_window,
    })),
    calls: { total: Object.values(calls).reduce((a, b) => a + b, 0), by_endpoint: calls },
    retries: {
      by_kind: diff(m.retries, before.retries),
      failed_calls_by_reason: diff(m.failures, before.failures),
    },
    throttles: { count: m.throttles - before.throttles, wait_ms: m.throttleWaitMs - before.throttleWaitMs },
    window_loss: lossReport(tally.activities, run.windowSize),
    hydration: i.hydration,
    failures_total: tally.failuresTotal,
    failures: tally.failures,
  };
}
