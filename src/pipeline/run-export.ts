import { randomUUID } from 'node:crypto';
import pLimit from 'p-limit';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { BackoffOptions } from '../graph/backoff.js';
import { GraphClient } from '../graph/client.js';
import { ConversationsApi } from '../graph/conversations-api.js';
import { GraphAuthError, GraphPagingError, GraphRequestError } from '../graph/errors.js';
import type { ParquetWriterOptions } from '../writers/parquet-writer.js';
import { mergeConcurrent } from './concurrency.js';
import { exportConversation } from './export-conversation.js';
import { SnapshotWriter, snapshotIdFor, type FileEntry } from './snapshot.js';
import { extractConversations } from './stages/extract.js';
import { ContractError } from './transform.js';
import type { HydrationStatus, RecordedFailure } from './types.js';

export interface ExportOptions {
  baseUrl: string;
  apiVersion: string;
  token: string;
  /** Where the token came from, for the manifest (the token itself is never recorded). */
  tokenSource: 'env' | 'file';
  /** `me` or an Instagram professional account id. */
  account: string;
  /** Export only the conversation with this Instagram-scoped user id. */
  userId?: string | undefined;
  outputRoot: string;
  maxRps: number;
  pageSize: number;
  conversationConcurrency: number;
  hydrateConcurrency: number;
  retries: number;
  timeoutMs: number;
  backoff: BackoffOptions;
  throttleWaitMs: number;
  maxThrottles: number;
  notFoundRetries: number;
  slowDownAbovePercent: number;
  /** Only this many most recent messages of a conversation can be read in detail (Meta: 20). */
  windowSize: number;
  parquet: ParquetWriterOptions;
}

export interface ExportDeps {
  clock: Clock;
  random: () => number;
  logger: Logger;
  signal?: AbortSignal | undefined;
  toolVersion: string;
}

export type Counts = { conversations: number; messages: number } & Record<HydrationStatus, number>;

export type StopReason = 'cancelled' | 'auth' | 'extract_failed';

export interface ExportSummary {
  status: 'complete' | 'partial';
  stopReason: StopReason | undefined;
  /** The error that stopped the run early, if any (an auth error maps to exit 3). */
  stopError: Error | undefined;
  snapshotId: string;
  snapshotDir: string;
  accountId: string;
  counts: Counts;
  calls: number;
  manifest: Manifest;
}

export interface Manifest {
  manifest_version: 1;
  status: 'complete' | 'partial';
  stop_reason: StopReason | null;
  /** Unique per run, even for two runs that start in the same millisecond. */
  run_id: string;
  snapshot_id: string;
  account_id: string;
  account_username: string | null;
  started_at: string;
  ended_at: string;
  tool: { name: 'ig-export'; version: string };
  api: { base_url: string; version: string };
  options: Record<string, unknown>;
  files: Record<string, FileEntry>;
  counts: Counts;
  calls: { total: number; by_endpoint: Record<string, number> };
  retries: { by_kind: Record<string, number>; failed_calls_by_reason: Record<string, number> };
  throttles: { count: number; wait_ms: number };
  failures_total: number;
  failures: RecordedFailure[];
}

const MAX_LISTED_FAILURES = 1000;

/** The composition root of one export: builds the client and limiters, runs the stages, publishes the snapshot. */
export async function runExport(options: ExportOptions, deps: ExportDeps): Promise<ExportSummary> {
  const { clock, logger, signal } = deps;
  const client = new GraphClient({
    baseUrl: options.baseUrl,
    apiVersion: options.apiVersion,
    token: options.token,
    maxRps: options.maxRps,
    timeoutMs: options.timeoutMs,
    retries: options.retries,
    backoff: options.backoff,
    throttleWaitMs: options.throttleWaitMs,
    maxThrottles: options.maxThrottles,
    notFoundRetries: options.notFoundRetries,
    slowDownAbovePercent: options.slowDownAbovePercent,
    clock,
    random: deps.random,
    logger,
    signal,
  });
  const api = new ConversationsApi(client, options.pageSize);
  const account = await api.resolveAccount(options.account);
  logger.info(`exporting account ${account.id}${account.username ? ` (@${account.username})` : ''}`);

  const startedAt = clock.now();
  const snapshotId = snapshotIdFor(startedAt);
  const snapshot = await SnapshotWriter.open(options.outputRoot, account.id, snapshotId, options.parquet);
  const ctx = { accountId: account.id, snapshotId };
  const counts: Counts = {
    conversations: 0,
    messages: 0,
    hydrated: 0,
    outside_window: 0,
    unavailable: 0,
    failed: 0,
  };
  const failures: RecordedFailure[] = [];
  let failuresTotal = 0;
  let stopReason: StopReason | undefined;
  let stopError: Error | undefined;

  try {
    const conversations = extractConversations(api, options.account, account.id, options.userId);
    const deps2 = {
      api,
      hydrateLimit: pLimit(options.hydrateConcurrency),
      windowSize: options.windowSize,
      clock,
      ctx,
    };
    for await (const event of mergeConcurrent(conversations, options.conversationConcurrency, (c) =>
      exportConversation(deps2, c),
    )) {
      if (event.type === 'message') {
        counts.messages++;
        counts[event.row.hydration_status as HydrationStatus]++;
        await snapshot.writeMessage(event.row);
      } else if (event.type === 'conversation') {
        counts.conversations++;
        await snapshot.writeConversation(event.row);
        if (counts.conversations % 50 === 0)
          logger.info(`progress: ${counts.conversations} conversations, ${counts.messages} messages`);
      } else {
        failuresTotal++;
        if (failures.length < MAX_LISTED_FAILURES) failures.push(event.failure);
        logger.warn(
          `${event.failure.stage} failed for ${event.failure.message_id ?? event.failure.conversation_id ?? 'the account'}`,
          {
            reason: event.failure.reason,
          },
        );
      }
    }
  } catch (e) {
    if (signal?.aborted) {
      stopReason = 'cancelled';
      logger.warn('cancelled: publishing what was completed as a partial snapshot');
    } else if (e instanceof GraphAuthError) {
      stopReason = 'auth';
      stopError = e;
    } else if (
      e instanceof GraphRequestError ||
      e instanceof GraphPagingError ||
      e instanceof ContractError
    ) {
      stopReason = 'extract_failed';
      stopError = e;
      failuresTotal++;
      failures.push({
        stage: 'extract',
        kind: e instanceof GraphRequestError ? e.kind : e.name,
        reason: e.name,
        message: e.message,
      });
    } else {
      await snapshot.discard();
      throw e;
    }
  }

  const files = await snapshot.close();
  const status = stopReason === undefined && failuresTotal === 0 ? 'complete' : 'partial';
  const metrics = client.metrics;
  const calls = Object.values(metrics.calls).reduce((a, b) => a + b, 0);
  const manifest: Manifest = {
    manifest_version: 1,
    status,
    stop_reason: stopReason ?? null,
    run_id: randomUUID(),
    snapshot_id: snapshotId,
    account_id: account.id,
    account_username: account.username ?? null,
    started_at: new Date(startedAt).toISOString(),
    ended_at: new Date(clock.now()).toISOString(),
    tool: { name: 'ig-export', version: deps.toolVersion },
    api: { base_url: options.baseUrl, version: options.apiVersion },
    options: manifestOptions(options),
    files,
    counts,
    calls: { total: calls, by_endpoint: { ...metrics.calls } },
    retries: { by_kind: { ...metrics.retries }, failed_calls_by_reason: { ...metrics.failures } },
    throttles: { count: metrics.throttles, wait_ms: metrics.throttleWaitMs },
    failures_total: failuresTotal,
    failures,
  };
  const snapshotDir = await snapshot.publish(manifest);
  return {
    status,
    stopReason,
    stopError,
    snapshotId,
    snapshotDir,
    accountId: account.id,
    counts,
    calls,
    manifest,
  };
}

/** Every option except the token (only where it came from). */
function manifestOptions(o: ExportOptions): Record<string, unknown> {
  const { token: _token, parquet, backoff, ...rest } = o;
  void _token;
  return { ...rest, backoff, parquet };
}
