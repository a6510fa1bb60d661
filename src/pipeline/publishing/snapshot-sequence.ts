import type { TableFormat } from '../../snapshots/formats.js';
import type { ClientMetrics } from '../../graph/client.js';
import type { ConversationRow, MessageRow } from '../../schema/tables.js';
import type { ConversationCommit, StateStore } from '../../state/state-store.js';
import type { ParquetWriterOptions } from '../../writers/parquet-options.js';
import type { HydrationReport } from '../hydration-strategy.js';
import type { ConversationActivity } from '../extensions/loss-report.js';
import { snapshotStoreFor, unusedSnapshotMs, type SnapshotStore } from '../../snapshots/snapshot-store.js';
import { SnapshotWriter } from '../../snapshots/staged-snapshot.js';
import type { MediaOutcome } from '../extensions/media-archive.js';
import type { Redactor } from '../redaction.js';
import { buildManifest } from './manifest-builder.js';
import { SnapshotTally } from './snapshot-tally.js';
import { renderReport, REPORT_FILE } from '../../snapshots/report.js';
import { MEDIA_DIR, snapshotIdFor } from '../../snapshots/layout.js';
import {
  emptyCounts,
  type Counts,
  type Custody,
  type Manifest,
  type StopReason,
} from '../../snapshots/manifest.js';
import type { RecordedFailure, TimeWindowEffect } from '../types.js';

export type { Counts, Manifest, StopReason } from '../../snapshots/manifest.js';

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
  /** The formats each table is written in (default: every format). */
  formats?: readonly TableFormat[] | undefined;
  /** --redact: rows pass through it before they are written. */
  redactor: Redactor | undefined;
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
  private readonly snapshots: SnapshotStore;
  private index = 0;
  private startedMs = 0;
  private tally = new SnapshotTally();
  private beforePublish: () => Promise<void> = () => Promise.resolve();
  private metricsAtOpen: ClientMetrics;
  private hydration: () => HydrationReport | null = () => null;
  readonly published: string[] = [];
  /** The counts of every snapshot published so far, added up. */
  readonly publishedCounts = emptyCounts();

  constructor(
    outputRoot: string,
    private readonly parquet: ParquetWriterOptions,
    private readonly run: RunInfo,
    private readonly metrics: ClientMetrics,
    private readonly store: StateStore | undefined,
    private readonly now: () => number,
  ) {
    this.snapshots = snapshotStoreFor(outputRoot);
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
    if (this.writer) for (const [k, v] of Object.entries(this.tally.counts)) out[k as keyof Counts] += v;
    return out;
  }

  /** Conversations written since the last checkpoint. */
  get conversationsInSnapshot(): number {
    return this.tally.counts.conversations;
  }

  get openedMs(): number {
    return this.startedMs;
  }

  async open(): Promise<void> {
    // Snapshot ids must be unique and increasing, even when two snapshots fall in the same millisecond.
    const startedMs = await unusedSnapshotMs(
      this.snapshots,
      this.run.accountId,
      Math.max(this.now(), this.startedMs + 1),
    );
    this.startedMs = startedMs;
    this.writer = SnapshotWriter.open(
      this.snapshots,
      this.run.accountId,
      snapshotIdFor(startedMs),
      this.parquet,
      this.run.media,
      this.run.formats,
    );
    this.tally = new SnapshotTally();
    if (this.index > 0) this.metricsAtOpen = cloneMetrics(this.metrics);
  }

  private get openWriter(): SnapshotWriter {
    if (!this.writer) throw new Error('no snapshot is open: rows cannot be written');
    return this.writer;
  }

  async writeMessage(row: MessageRow): Promise<void> {
    const writer = this.openWriter;
    this.tally.message(row);
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
    this.tally.mediaOutcome(outcome);
    await writer.writeMedia({ ...outcome, account_id: this.run.accountId, snapshot_id: writer.snapshotId });
  }

  /** The conversation listing stopped at --since although more pages followed. */
  recordConversationListingCutShort(): void {
    this.tally.listingCutShort();
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
    const written = this.run.redactor?.conversation(row) ?? row;
    this.tally.conversation(row.conversation_id, written, commit, activity, timeWindow);
    await writer.writeConversation(written);
  }

  /** Where each manifest reads the hydration strategy from. */
  describeHydration(report: () => HydrationReport): void {
    this.hydration = report;
  }

  /** A listed conversation that needed nothing (archived and unchanged). */
  recordSkipped(): void {
    this.tally.skipped++;
  }

  /** The open snapshot holds no row and no failure. */
  get isEmpty(): boolean {
    return this.tally.isEmpty;
  }

  recordFailure(failure: RecordedFailure): void {
    this.tally.failure(failure);
  }

  /** Publishes the open snapshot and commits its state; returns its manifest. */
  async publish(final: boolean, stopReason: StopReason | undefined): Promise<Manifest> {
    if (!this.writer) throw new Error('no snapshot is open');
    await this.beforePublish();
    const writer = this.openWriter;
    const files = await writer.close();
    for (const [sha256, bytes] of this.tally.mediaFiles) files[`${MEDIA_DIR}/${sha256}`] = { bytes, sha256 };
    const manifest = buildManifest({
      run: this.run,
      tally: this.tally,
      snapshotId: writer.snapshotId,
      index: this.index,
      final,
      stopReason,
      startedMs: this.startedMs,
      endedMs: this.now(),
      files,
      metrics: this.metrics,
      metricsAtOpen: this.metricsAtOpen,
      hydration: this.hydration(),
    });
    manifest.files[REPORT_FILE] = await writer.writeFile(
      REPORT_FILE,
      renderReport(manifest, this.tally.daily),
    );
    const dir = await writer.publish(manifest);
    this.store?.commitSnapshot(
      writer.snapshotId,
      this.run.runId,
      this.windowed ? [] : this.tally.commits,
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
