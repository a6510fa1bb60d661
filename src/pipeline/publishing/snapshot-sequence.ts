import type { ClientMetrics } from '../graph/client.js';
import type { ConversationRow, MessageRow } from '../schema/tables.js';
import type { ConversationCommit, StateStore } from '../state/state-store.js';
import type { ParquetWriterOptions } from '../writers/parquet-options.js';
import type { HydrationReport } from './hydration-strategy.js';
import { lossReport, type ConversationActivity } from './extensions/loss-report.js';
import { SnapshotWriter } from '../snapshots/staged-snapshot.js';
import type { MediaOutcome } from './extensions/media-archive.js';
import { REDACTED_COLUMNS, type Redactor } from './redaction.js';
import { renderReport, REPORT_FILE } from '../snapshots/report.js';
import { MEDIA_DIR, snapshotIdFor } from '../snapshots/layout.js';
import {
  emptyCounts,
  zeroByStatus,
  type ConversationAccount,
  type Counts,
  type Custody,
  type Manifest,
  type StopReason,
} from '../snapshots/manifest.js';
import type { RecordedFailure, TimeWindowEffect } from './types.js';

export type { Counts, Manifest, StopReason } from '../snapshots/manifest.js';

const MAX_LISTED_FAILURES = 1000;

/** Run-level facts every manifest repeats. */
export interface RunInfo {
  runId: string;
  runStartedMs: number;
  mode: 'full' | 'incremental';
  resumedFromRunId: string | undefined;
  accountId: string;
  accountUsername: string | undefined;
  toolVersion: string;
  baseUrl: string;
  apiVersion: string;
  options: Record<string, unknown>;
  windowSize: number;
  custody: Custody;
  filters: Manifest['filters'];
  /** Snapshots hold a media table and media/ files (--download-media). */
  media: boolean;
  /** --redact: rows pass through it before they are written. */
  redactor: Redactor | undefined;
}

type MediaSummary = NonNullable<Manifest['media']>;
const emptyMediaSummary = (): MediaSummary => ({
  downloaded: 0,
  expired: 0,
  too_large: 0,
  failed: 0,
  files: 0,
  bytes: 0,
});

/** Calls a time window (--since/--until) saved while a snapshot was open. */
type WindowSavings = NonNullable<Manifest['window_savings']>;

function diff(now: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(now)) if (v - (before[k] ?? 0) > 0) out[k] = v - (before[k] ?? 0);
  return out;
}

function cloneMetrics(m: ClientMetrics): ClientMetrics {
  return {
    calls: { ...m.calls },
    failures: { ...m.failures },
    retries: { ...m.retries },
    throttles: m.throttles,
    throttleWaitMs: m.throttleWaitMs,
  };
}

/**
 * The snapshots one run publishes: one at each checkpoint and one at the end. Publishing is data files → manifest →
 * rename → state, so a crash at any moment leaves either no visible snapshot or a complete one whose state can be
 * rebuilt from its files.
 */
export class SnapshotSequence {
  private writer: SnapshotWriter | undefined;
  private index = 0;
  private startedMs = 0;
  private counts = emptyCounts();
  private commits: ConversationCommit[] = [];
  private activities: ConversationActivity[] = [];
  private failures: RecordedFailure[] = [];
  private failuresTotal = 0;
  private skipped = 0;
  private perConversation = new Map<string, ConversationAccount>();
  private savings: WindowSavings = { listing_stopped_early: 0, detail_reads_skipped: 0 };
  private mediaSummary = emptyMediaSummary();
  /** Message rows per creation day, for the report's chart. */
  private daily = new Map<string, number>();
  /** Media files stored in the open snapshot, by SHA-256. */
  private mediaFiles = new Map<string, number>();
  private beforePublish: () => Promise<void> = () => Promise.resolve();
  private metricsAtOpen: ClientMetrics;
  private hydration: () => HydrationReport | null = () => null;
  readonly published: string[] = [];
  /** The counts of every snapshot published so far, added up. */
  readonly publishedCounts = emptyCounts();

  constructor(
    private readonly outputRoot: string,
    private readonly parquet: ParquetWriterOptions,
    private readonly run: RunInfo,
    private readonly metrics: ClientMetrics,
    private readonly store: StateStore | undefined,
    private readonly now: () => number,
  ) {
    // The first snapshot also accounts for the calls made before it opened (resolving the account).
    this.metricsAtOpen = { calls: {}, failures: {}, retries: {}, throttles: 0, throttleWaitMs: 0 };
  }

  get snapshotId(): string {
    if (!this.writer) throw new Error('no snapshot is open');
    return this.writer.snapshotId;
  }

  /** Everything the run has written so far: the published snapshots and the open one. */
  get runCounts(): Counts {
    const out = { ...this.publishedCounts };
    if (this.writer) for (const [k, v] of Object.entries(this.counts)) out[k as keyof Counts] += v;
    return out;
  }

  /** Conversations written since the last checkpoint. */
  get conversationsInSnapshot(): number {
    return this.counts.conversations;
  }

  get openedMs(): number {
    return this.startedMs;
  }

  async open(): Promise<void> {
    let startedMs = Math.max(this.now(), this.startedMs + 1);
    // Snapshot ids must be unique and increasing, even when two snapshots fall in the same millisecond.
    while (await SnapshotWriter.exists(this.outputRoot, this.run.accountId, snapshotIdFor(startedMs)))
      startedMs++;
    this.startedMs = startedMs;
    this.writer = SnapshotWriter.open(
      this.outputRoot,
      this.run.accountId,
      snapshotIdFor(startedMs),
      this.parquet,
      this.run.media,
    );
    this.counts = emptyCounts();
    this.commits = [];
    this.activities = [];
    this.failures = [];
    this.failuresTotal = 0;
    this.skipped = 0;
    this.perConversation = new Map();
    this.savings = { listing_stopped_early: 0, detail_reads_skipped: 0 };
    this.mediaSummary = emptyMediaSummary();
    this.mediaFiles = new Map();
    this.daily = new Map();
    if (this.index > 0) this.metricsAtOpen = cloneMetrics(this.metrics);
  }

  private get openWriter(): SnapshotWriter {
    if (!this.writer) throw new Error('no snapshot is open: rows cannot be written');
    return this.writer;
  }

  private accountOf(conversationId: string): ConversationAccount {
    let a = this.perConversation.get(conversationId);
    if (a === undefined) {
      a = {
        conversation_id: conversationId,
        listed: 0,
        rows: 0,
        ...zeroByStatus(),
        outside_time_window: 0,
      };
      this.perConversation.set(conversationId, a);
    }
    return a;
  }

  async writeMessage(row: MessageRow): Promise<void> {
    const writer = this.openWriter;
    const status = row.hydration_status;
    this.counts.messages++;
    this.counts[status]++;
    const account = this.accountOf(row.conversation_id);
    account.rows++;
    account[status]++;
    const day = new Date(row.created_time).toISOString().slice(0, 10);
    this.daily.set(day, (this.daily.get(day) ?? 0) + 1);
    await writer.writeMessage(this.run.redactor?.message(row) ?? row);
  }

  /** The open snapshot's directory (temporary until published): where media files are stored. */
  get openDir(): string {
    return this.openWriter.tmpDir;
  }

  /** Work that must end inside the open snapshot before it is published (media downloads). */
  onBeforePublish(fn: () => Promise<void>): void {
    this.beforePublish = fn;
  }

  async writeMedia(outcome: MediaOutcome): Promise<void> {
    const writer = this.openWriter;
    this.mediaSummary[outcome.status]++;
    if (outcome.status === 'downloaded' && outcome.sha256 !== null && !this.mediaFiles.has(outcome.sha256)) {
      this.mediaFiles.set(outcome.sha256, outcome.bytes ?? 0);
      this.mediaSummary.files++;
      this.mediaSummary.bytes += outcome.bytes ?? 0;
    }
    await writer.writeMedia({ ...outcome, account_id: this.run.accountId, snapshot_id: writer.snapshotId });
  }

  /** The conversation listing stopped at --since although more pages followed. */
  recordConversationListingCutShort(): void {
    this.savings.listing_stopped_early++;
  }

  /** A time window narrows what the run reads: its rows are not the archive's, so the state records none of them. */
  private get windowed(): boolean {
    return this.run.filters.since !== null || this.run.filters.until !== null;
  }

  async writeConversation(
    row: ConversationRow,
    commit: ConversationCommit,
    activity: ConversationActivity,
    timeWindow?: TimeWindowEffect,
  ): Promise<void> {
    const writer = this.openWriter;
    this.counts.conversations++;
    this.counts.lost += activity.lost;
    this.accountOf(row.conversation_id).outside_time_window += timeWindow?.outside ?? 0;
    this.savings.listing_stopped_early += timeWindow?.cutShort ? 1 : 0;
    this.savings.detail_reads_skipped += timeWindow?.detailReadsSkipped ?? 0;
    this.commits.push(commit);
    this.activities.push(activity);
    const written = this.run.redactor?.conversation(row) ?? row;
    const account = this.accountOf(row.conversation_id);
    account.participant_id = written.participant_id;
    account.participant_username = written.participant_username;
    await writer.writeConversation(written);
  }

  /** Where each manifest reads the hydration strategy from. */
  describeHydration(report: () => HydrationReport): void {
    this.hydration = report;
  }

  /** A listed conversation that needed nothing (archived and unchanged). */
  recordSkipped(): void {
    this.skipped++;
  }

  /** The open snapshot holds no row and no failure. */
  get isEmpty(): boolean {
    return this.counts.conversations === 0 && this.counts.messages === 0 && this.failuresTotal === 0;
  }

  recordFailure(failure: RecordedFailure): void {
    this.failuresTotal++;
    if (this.failures.length < MAX_LISTED_FAILURES) this.failures.push(failure);
  }

  /** Publishes the open snapshot and commits its state; returns its manifest. */
  async publish(final: boolean, stopReason: StopReason | undefined): Promise<Manifest> {
    if (!this.writer) throw new Error('no snapshot is open');
    await this.beforePublish();
    const writer = this.openWriter;
    const files = await writer.close();
    for (const [sha256, bytes] of this.mediaFiles) files[`${MEDIA_DIR}/${sha256}`] = { bytes, sha256 };
    const m = this.metrics;
    const calls = diff(m.calls, this.metricsAtOpen.calls);
    const manifest: Manifest = {
      manifest_version: 2,
      status: stopReason === undefined && this.failuresTotal === 0 ? 'complete' : 'partial',
      stop_reason: stopReason ?? null,
      run_id: this.run.runId,
      snapshot_id: writer.snapshotId,
      checkpoint: { index: this.index, final },
      mode: this.run.mode,
      resumed_from_run_id: this.run.resumedFromRunId ?? null,
      skipped_conversations: this.skipped,
      account_id: this.run.accountId,
      account_username: this.run.accountUsername ?? null,
      run_started_at: new Date(this.run.runStartedMs).toISOString(),
      started_at: new Date(this.startedMs).toISOString(),
      ended_at: new Date(this.now()).toISOString(),
      tool: { name: 'ig-export', version: this.run.toolVersion },
      api: { base_url: this.run.baseUrl, version: this.run.apiVersion },
      custody: this.run.custody,
      filters: this.run.filters,
      redaction: this.run.redactor
        ? {
            method: 'HMAC-SHA-256',
            key_id: this.run.redactor.keyId,
            hashed: [...REDACTED_COLUMNS.hashed],
            dropped: [...REDACTED_COLUMNS.dropped],
          }
        : null,
      window_savings: this.windowed ? { ...this.savings } : null,
      options: this.run.options,
      files,
      counts: { ...this.counts },
      media: this.run.media ? { ...this.mediaSummary } : null,
      conversations: [...this.perConversation.values()].map((a) => ({
        ...a,
        listed: a.rows + a.outside_time_window,
      })),
      calls: { total: Object.values(calls).reduce((a, b) => a + b, 0), by_endpoint: calls },
      retries: {
        by_kind: diff(m.retries, this.metricsAtOpen.retries),
        failed_calls_by_reason: diff(m.failures, this.metricsAtOpen.failures),
      },
      throttles: {
        count: m.throttles - this.metricsAtOpen.throttles,
        wait_ms: m.throttleWaitMs - this.metricsAtOpen.throttleWaitMs,
      },
      window_loss: lossReport(this.activities, this.run.windowSize),
      hydration: this.hydration(),
      failures_total: this.failuresTotal,
      failures: this.failures,
    };
    manifest.files[REPORT_FILE] = await writer.writeFile(REPORT_FILE, renderReport(manifest, this.daily));
    const dir = await writer.publish(manifest);
    this.store?.commitSnapshot(
      writer.snapshotId,
      this.run.runId,
      this.windowed ? [] : this.commits,
      this.now(),
    );
    this.published.push(dir);
    for (const [k, v] of Object.entries(manifest.counts)) this.publishedCounts[k as keyof Counts] += v;
    this.writer = undefined;
    this.index++;
    return manifest;
  }

  /** Nothing more is published (an unexpected error): drop the open snapshot. */
  async discard(): Promise<void> {
    await this.writer?.discard();
    this.writer = undefined;
  }
}
