import type { TableFormat } from '../snapshots/formats.js';
import type { Clock } from '../clock.js';
import type { ClientMetrics, GraphClientSettings } from '../graph/client.js';
import type { Transport } from '../graph/transport.js';
import type { Logger } from '../logger.js';
import type { Custody } from '../snapshots/manifest.js';
import type { ParquetWriterOptions } from '../writers/parquet-options.js';
import type { OnProgress } from './extensions/export-progress.js';
import type { MediaOptions } from './extensions/media-archive.js';
import type { LossReport } from './extensions/loss-report.js';
import type { HydrateMode, HydrationReport } from './hydration-strategy.js';
import type { Counts, Manifest, StopReason } from './publishing/snapshot-sequence.js';
import type { NoSnapshotReason } from './run-outcome.js';

/** What an export is given (options, dependencies) and what it answers (the summary). */

/**
 * One export's options in three groups: how the Graph client calls the API, what the run exports and where, and how
 * Parquet files are written. Each group goes whole to the part that owns it.
 */
export interface ExportOptions {
  client: GraphClientSettings;
  run: RunOptions;
  parquet: ParquetWriterOptions;
}

export interface RunOptions {
  /** Where the token came from, for the manifest (the token itself is never recorded). */
  tokenSource: 'env' | 'file';
  /** `me` or an Instagram professional account id. */
  account: string;
  /** Export only the conversation with this Instagram-scoped user id. */
  userId?: string | undefined;
  outputRoot: string;
  /** The formats each table is written in (`--formats`; default every format: NDJSON and Parquet). */
  formats?: readonly TableFormat[] | undefined;
  /** Run state (SQLite) and the account's lock live here. */
  stateDir: string;
  /** `auto`: incremental once state exists for the account; `full`: list and write everything again. */
  mode: 'auto' | 'full';
  /** Delete the account's state file first: it is rebuilt from the published snapshots (`--rebuild-state`). */
  rebuildState?: boolean | undefined;
  /** Publish a snapshot (and commit state) at least this often during a long run. */
  checkpointMs: number;
  /** …and after this many conversations (0 = no count limit). */
  checkpointConversations: number;
  /** Conversations updated up to this long before the previous run's newest are looked at again. */
  overlapMs: number;
  /** Items asked per listing page (the largest the API serves: fewer pages, fewer calls). */
  pageSize: number;
  conversationConcurrency: number;
  hydrateConcurrency: number;
  /** Only this many most recent messages of a conversation can be read in detail (Meta: 20). */
  windowSize: number;
  /** How the window's details are read: expansion (one call per conversation) or one call per message. */
  hydrate: HydrateMode;
  /** `--redact`: the HMAC key that replaces user ids and usernames (never written anywhere). */
  redactKey?: string | undefined;
  /** `--download-media`: archive the media files messages carry into each snapshot. */
  media?: MediaOptions | undefined;
  /** Time window (epoch ms): keep messages created at or after `since` and before `until`. */
  since?: number | undefined;
  until?: number | undefined;
  /** --honour-unsends: rows of messages a captured webhook says were unsent keep no content. */
  honourUnsends?: boolean | undefined;
  /** Captured webhook events merged into a published snapshot are pruned from the spool after this long. */
  webhookRetentionMs?: number | undefined;
}

export interface ExportDeps {
  clock: Clock;
  random: () => number;
  logger: Logger;
  signal?: AbortSignal | undefined;
  toolVersion: string;
  /** Who runs the export and with what (the manifest's chain of custody). */
  custody: Custody;
  /** Told how the run is going after each conversation (the CLI draws it on a terminal). */
  onProgress?: OnProgress | undefined;
  /** How Graph requests are sent (default: fetch); `--record` wraps it to write every exchange. */
  transport?: Transport | undefined;
}

export interface ExportSummary {
  status: 'complete' | 'partial';
  mode: 'full' | 'incremental';
  /** The unfinished full export this run continued, if any. */
  resumedFromRunId: string | undefined;
  /** Listed conversations that needed no call: archived by an earlier snapshot and unchanged since. */
  skippedConversations: number;
  stopReason: StopReason | undefined;
  /** The error that stopped the run early, if any (an auth error maps to exit 3). */
  stopError: Error | undefined;
  runId: string;
  /** The run's last snapshot; undefined when nothing changed and no snapshot was published. */
  snapshotDir: string | undefined;
  /** Every snapshot the run published (one per checkpoint), oldest first. */
  snapshotDirs: string[];
  /** Why none was published, when none was. */
  noSnapshot: NoSnapshotReason | undefined;
  accountId: string;
  /** The rows of the snapshots in `snapshotDirs`, added up. */
  counts: Counts;
  calls: number;
  /** The whole run's client metrics (each manifest has its own snapshot's share). */
  metrics: ClientMetrics;
  loss: LossReport;
  /** The last snapshot's manifest (undefined when none was published). */
  manifest: Manifest | undefined;
  /** How message details were read, and any fallback. */
  hydration: HydrationReport;
  /**
   * What the webhook spool gave this run (null when `listen` never stored anything for the account): rows filled
   * from captured messages, unsends applied, captured messages no listing has confirmed yet, events pruned.
   */
  webhooks: { captured: number; unsends: number; pending: number; pruned: number } | null;
}

/** Captured webhooks default to 30 days of retention once merged. */
export const DEFAULT_WEBHOOK_RETENTION_MS = 30 * 86_400_000;
