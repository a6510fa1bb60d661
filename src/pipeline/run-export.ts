import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import pLimit from 'p-limit';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { BackoffOptions } from '../graph/backoff.js';
import { GraphClient, type ClientMetrics } from '../graph/client.js';
import { ConversationsApi } from '../graph/conversations-api.js';
import { GraphAuthError, GraphPagingError, GraphRequestError } from '../graph/errors.js';
import { acquireRunLock } from '../state/run-lock.js';
import { needsRetry, StateStore } from '../state/state-store.js';
import type { ParquetWriterOptions } from '../writers/parquet-writer.js';
import { CheckpointGate } from './checkpoint-gate.js';
import { mergeConcurrent } from './concurrency.js';
import { exportConversation, type ConversationPlan } from './export-conversation.js';
import { lossReport, lossWarning, type ConversationActivity, type LossReport } from './loss-report.js';
import { recordedFailure } from './recorded-failure.js';
import { reconcileSnapshots } from './reconcile-snapshots.js';
import {
  emptyCounts,
  SnapshotSequence,
  type Counts,
  type Manifest,
  type StopReason,
} from './snapshot-sequence.js';
import { extractConversations } from './stages/extract.js';
import { ContractError } from './transform.js';
import type { RowContext } from './types.js';

export type { Counts, Manifest, StopReason } from './snapshot-sequence.js';

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
  /** Run state (SQLite) and the account's lock live here. */
  stateDir: string;
  /** `auto`: incremental once state exists for the account; `full`: list and write everything again. */
  mode: 'auto' | 'full';
  /** Publish a snapshot (and commit state) at least this often during a long run. */
  checkpointMs: number;
  /** …and after this many conversations (0 = no count limit). */
  checkpointConversations: number;
  /** Conversations updated up to this long before the previous run's newest are looked at again. */
  overlapMs: number;
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

export interface ExportSummary {
  status: 'complete' | 'partial';
  mode: 'full' | 'incremental';
  stopReason: StopReason | undefined;
  /** The error that stopped the run early, if any (an auth error maps to exit 3). */
  stopError: Error | undefined;
  /** The run's last snapshot. */
  snapshotId: string;
  snapshotDir: string;
  /** Every snapshot the run published (one per checkpoint), oldest first. */
  snapshotDirs: string[];
  accountId: string;
  counts: Counts;
  calls: number;
  /** The whole run's client metrics (each manifest has its own snapshot's share). */
  metrics: ClientMetrics;
  loss: LossReport;
  /** The last snapshot's manifest. */
  manifest: Manifest;
}

/**
 * The composition root of one export: resolves the account, takes its lock, brings the state up to date with the
 * snapshots on disk, runs the stages, and publishes a snapshot at each checkpoint and at the end.
 */
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

  const stateBase = join(options.stateDir, `account=${account.id}`);
  const release = await acquireRunLock(
    stateBase,
    () => clock.now(),
    30_000,
    (e) => logger.error(`the run lock was compromised: ${e.message}`),
  );
  const store = StateStore.open(`${stateBase}.sqlite`);
  try {
    const recovered = await reconcileSnapshots(
      store,
      join(options.outputRoot, `account=${account.id}`),
      options.windowSize,
    );
    if (recovered.length > 0)
      logger.warn(`state brought up to date from ${recovered.length} published snapshot(s)`);
    return await exportWithState(options, deps, client, api, account, store);
  } finally {
    store.close();
    await release();
  }
}

async function exportWithState(
  options: ExportOptions,
  deps: ExportDeps,
  client: GraphClient,
  api: ConversationsApi,
  account: { id: string; username: string | undefined },
  store: StateStore,
): Promise<ExportSummary> {
  const { clock, logger, signal } = deps;
  const prior = store.account();
  const incremental = options.mode === 'auto' && prior.lastRunStartedMs !== undefined;
  const mode = incremental ? 'incremental' : 'full';
  logger.info(`${mode} export of account ${account.id}${account.username ? ` (@${account.username})` : ''}`);

  const runStartedMs = clock.now();
  const sequence = new SnapshotSequence(
    options.outputRoot,
    options.parquet,
    {
      runId: randomUUID(),
      runStartedMs,
      mode,
      accountId: account.id,
      accountUsername: account.username,
      toolVersion: deps.toolVersion,
      baseUrl: options.baseUrl,
      apiVersion: options.apiVersion,
      options: manifestOptions(options),
      windowSize: options.windowSize,
    },
    client.metrics,
    store,
    () => clock.now(),
  );
  await sequence.open();
  const ctx: RowContext = {
    accountId: account.id,
    get snapshotId() {
      return sequence.snapshotId;
    },
  };

  const gate = new CheckpointGate();
  let inFlight = 0;
  let listingComplete = false;
  let newestListedMs: number | undefined;
  /** updated_time of conversations this run could not finish: the next run must list down to them. */
  const unfinished: number[] = [];
  const activities: ConversationActivity[] = [];
  const totals = emptyCounts();

  async function* plans(): AsyncGenerator<ConversationPlan> {
    for await (const c of extractConversations(api, options.account, account.id, options.userId)) {
      newestListedMs = Math.max(newestListedMs ?? c.updatedMs, c.updatedMs);
      if (
        incremental &&
        prior.watermarkMs !== undefined &&
        c.updatedMs < prior.watermarkMs - options.overlapMs
      ) {
        break; // every older conversation was archived when the watermark was set: no further page is needed
      }
      const state = store.conversation(c.id);
      if (incremental && state && state.updatedMs === c.updatedMs && !state.needsRetry) continue;
      await gate.pass();
      inFlight++;
      yield {
        conversation: c,
        known: incremental && state ? store.knownMessages(c.id) : undefined,
        lastCheckedMs: incremental ? state?.checkedMs : undefined,
      };
    }
    listingComplete = true;
  }

  const checkpointDue = (): boolean =>
    (options.checkpointConversations > 0 &&
      sequence.conversationsInSnapshot >= options.checkpointConversations) ||
    clock.now() - sequence.openedMs >= options.checkpointMs;

  const conversationDeps = {
    api,
    hydrateLimit: pLimit(options.hydrateConcurrency),
    windowSize: options.windowSize,
    clock,
    ctx,
    previousRunStartedMs: prior.lastRunStartedMs,
  };

  let stopReason: StopReason | undefined;
  let stopError: Error | undefined;
  try {
    for await (const event of mergeConcurrent(plans(), options.conversationConcurrency, (p) =>
      exportConversation(conversationDeps, p),
    )) {
      if (event.type === 'message') {
        await sequence.writeMessage(event.row);
        totals.messages++;
        totals[event.row.hydration_status as keyof Counts]++;
      } else if (event.type === 'failure') {
        sequence.recordFailure(event.failure);
        logger.warn(
          `${event.failure.stage} failed for ${event.failure.message_id ?? event.failure.conversation_id ?? 'the account'}`,
          {
            reason: event.failure.reason,
          },
        );
      } else {
        inFlight--;
        await sequence.writeConversation(event.row, event.commit, event.activity);
        totals.conversations++;
        totals.lost += event.activity.lost;
        activities.push(event.activity);
        if (needsRetry(event.commit)) unfinished.push(event.commit.updatedMs);
        if (totals.conversations % 50 === 0) {
          logger.info(`progress: ${totals.conversations} conversations, ${totals.messages} messages`);
        }
        if (checkpointDue()) {
          gate.close();
          if (inFlight === 0) {
            const m = await sequence.publish(false, undefined);
            logger.info(
              `checkpoint ${m.checkpoint.index} published: ${m.counts.conversations} conversations`,
            );
            await sequence.open();
            gate.open();
          }
        }
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
      sequence.recordFailure(recordedFailure('extract', e));
    } else {
      await sequence.discard();
      throw e;
    }
  } finally {
    gate.open();
  }

  const manifest = await sequence.publish(true, stopReason);
  const anyPartial = stopReason !== undefined || unfinished.length > 0 || totals.failed > 0;
  // A one-person run (--user-id) saw one conversation: it says nothing about the account's other conversations.
  if (listingComplete && stopReason === undefined && options.userId === undefined) {
    // Next run may stop listing at the newest conversation seen, unless something older was left unfinished.
    const watermark = unfinished.length > 0 ? Math.min(...unfinished) - 1 : newestListedMs;
    store.finishRun(watermark, runStartedMs);
  }
  const loss = lossReport(activities, options.windowSize);
  const warning = lossWarning(loss);
  if (warning)
    logger.warn(warning, {
      lost: loss.lost,
      recommended_interval_minutes: loss.recommended_interval_minutes,
    });
  const metrics = structuredClone(client.metrics);
  return {
    status: anyPartial ? 'partial' : 'complete',
    mode,
    stopReason,
    stopError,
    snapshotId: manifest.snapshot_id,
    snapshotDir: sequence.published[sequence.published.length - 1] ?? '',
    snapshotDirs: [...sequence.published],
    accountId: account.id,
    counts: totals,
    calls: Object.values(metrics.calls).reduce((a, b) => a + b, 0),
    metrics,
    loss,
    manifest,
  };
}

/** Every option except the token (only where it came from). */
function manifestOptions(o: ExportOptions): Record<string, unknown> {
  const { token: _token, ...rest } = o;
  return rest;
}
