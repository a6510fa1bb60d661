import { refuseLink } from '../output-path.js';
import { rm } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import pLimit from 'p-limit';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { GraphClient, type ClientMetrics, type GraphClientSettings } from '../graph/client.js';
import type { Transport } from '../graph/transport.js';
import { ConversationsApi } from '../graph/conversations-api.js';
import { GraphAuthError, GraphPagingError, GraphRequestError } from '../graph/errors.js';
import { acquireRunLock } from '../state/run-lock.js';
import { asStateFileError, needsRetry, StateFileCorruptError, StateStore } from '../state/state-store.js';
import { accountForToken, rememberAccountForToken } from '../state/token-accounts.js';
import type { ParquetWriterOptions } from '../writers/parquet-options.js';
import { CheckpointCoordinator } from './checkpoint-coordinator.js';
import { HydrationStrategy, type HydrateMode, type HydrationReport } from './hydration-strategy.js';
import { chooseRunMode, ConversationPlanner, NoSuchConversationError } from './conversation-planner.js';

export { NoSuchConversationError } from './conversation-planner.js';
import { mergeConcurrent } from './concurrency.js';
import { exportConversation, type ConversationPlan } from './export-conversation.js';
import { lossReport, lossWarning, type ConversationActivity, type LossReport } from './loss-report.js';
import { CapturedMessages } from './captured-messages.js';
import { recordedFailure } from './recorded-failure.js';
import { reconcileSnapshots } from '../snapshots/reconcile.js';
import { accountDir, accountLockDir, accountStatePath, snapshotIdOfDir } from '../snapshots/layout.js';
import type { Custody } from '../snapshots/manifest.js';
import { conversationWeight, measuredPace, type OnProgress } from './export-progress.js';
import { MediaArchive, type MediaOptions } from './media-archive.js';
import { mediaUrls } from './message-content.js';
import { Redactor } from './redaction.js';
import { SnapshotSequence, type Counts, type Manifest, type StopReason } from './snapshot-sequence.js';
import { ContractError } from '../graph/wire-shapes.js';
import type { HydrationStatus, ListedConversation, RowContext } from './types.js';

export type { Counts, Manifest, StopReason } from './snapshot-sequence.js';

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

/** How far Meta's clock (the watermark's source) may run ahead of this machine's before the state is doubted. */
const WATERMARK_SKEW_MS = 86_400_000;

/** Captured webhooks default to 30 days of retention once merged. */
export const DEFAULT_WEBHOOK_RETENTION_MS = 30 * 86_400_000;

const isoOrNull = (ms: number | undefined): string | null =>
  ms === undefined ? null : new Date(ms).toISOString();

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

/**
 * The composition root of one export: takes the account's lock (before any call when the account is known),
 * resolves the account, brings the state up to date with the snapshots on disk, runs the stages, and publishes a
 * snapshot at each checkpoint and at the end.
 */
export async function runExport(options: ExportOptions, deps: ExportDeps): Promise<ExportSummary> {
  const { clock, logger, signal } = deps;
  const client = new GraphClient({
    ...options.client,
    clock,
    random: deps.random,
    logger,
    signal,
    transport: deps.transport,
  });
  const api = new ConversationsApi(client, options.run.pageSize, (reason) =>
    logger.warn(`message lists continue by cursor for the rest of this run: ${reason}`),
  );
  const lock = (accountId: string): Promise<() => Promise<void>> =>
    acquireRunLock(
      accountLockDir(options.run.stateDir, accountId),
      () => clock.now(),
      30_000,
      (e) => logger.error(`the run lock was compromised: ${e.message}`),
    );

  // Lock first: an overlapping run must not spend the running export's call budget before it sees the lock.
  const knownId =
    options.run.account === 'me'
      ? await accountForToken(options.run.stateDir, options.client.token)
      : options.run.account;
  const releases: Array<() => Promise<void>> = [];
  try {
    if (knownId !== undefined) releases.push(await lock(knownId));
    const account = await api.resolveAccount(options.run.account);
    if (account.id !== knownId) releases.push(await lock(account.id));
    if (options.run.account === 'me')
      await rememberAccountForToken(options.run.stateDir, options.client.token, account.id);

    const statePath = accountStatePath(options.run.stateDir, account.id);
    // Checked before the snapshots are read: an account folder that is a link is refused by every command alike.
    refuseLink(accountDir(options.run.outputRoot, account.id));
    let store: StateStore;
    try {
      if (options.run.rebuildState === true) {
        // Under the lock: nothing else uses the file. Snapshots are the source of truth; the state is an index.
        for (const suffix of ['', '-wal', '-shm']) await rm(`${statePath}${suffix}`, { force: true });
        logger.warn(
          `run state ${statePath} removed (--rebuild-state): it is rebuilt from the published snapshots`,
        );
      }
      store = StateStore.open(statePath);
    } catch (e) {
      throw asStateFileError(e, statePath);
    }
    // The watermark is a time Meta gave (a conversation's updated_time): one much later than now is a damaged
    // state, which would otherwise make every run stop listing at once and report `complete` with nothing new.
    const { watermarkMs } = store.account();
    if (watermarkMs !== undefined && watermarkMs > clock.now() + WATERMARK_SKEW_MS) {
      store.close();
      throw new StateFileCorruptError(
        statePath,
        `its watermark ${new Date(watermarkMs).toISOString()} is later than now`,
      );
    }
    try {
      const recovered = await reconcileSnapshots(
        store,
        accountDir(options.run.outputRoot, account.id),
        options.run.windowSize,
      );
      if (recovered.committed.length > 0)
        logger.warn(`state brought up to date from ${recovered.committed.length} published snapshot(s)`);
      for (const { snapshotId, reason } of recovered.invalid)
        logger.warn(
          `snapshot ${snapshotId} is not trusted and not in the state (${reason}); its conversations are exported again. ` +
            'Check it with "ig-export verify"',
        );
      const captured = CapturedMessages.open(options.run.stateDir, account.id);
      try {
        return await exportWithState(options, deps, client, api, account, store, captured);
      } finally {
        captured?.close();
      }
    } catch (e) {
      throw asStateFileError(e, statePath);
    } finally {
      store.close();
    }
  } finally {
    for (const release of releases.reverse()) await release();
  }
}

async function exportWithState(
  options: ExportOptions,
  deps: ExportDeps,
  client: GraphClient,
  api: ConversationsApi,
  account: { id: string; username: string | undefined },
  store: StateStore,
  captured: CapturedMessages | undefined,
): Promise<ExportSummary> {
  const { clock, logger, signal } = deps;
  const prior = store.account();
  const runMode = chooseRunMode(options.run, store, prior);
  const { mode, resuming, resumedFromRunId } = runMode;
  logger.info(
    `${resuming ? 'resuming the unfinished full' : mode} export of account ${account.id}${account.username ? ` (@${account.username})` : ''}`,
    resuming ? { resumed_from_run_id: resumedFromRunId } : undefined,
  );

  const runId = randomUUID();
  const runStartedMs = clock.now();
  const { redactKey, userId } = options.run;
  const redactor =
    redactKey === undefined ? undefined : new Redactor(redactKey, account.id, account.username);
  const sequence = new SnapshotSequence(
    options.run.outputRoot,
    options.parquet,
    {
      runId,
      runStartedMs,
      mode,
      resumedFromRunId,
      accountId: account.id,
      accountUsername: account.username,
      toolVersion: deps.toolVersion,
      baseUrl: options.client.baseUrl,
      apiVersion: options.client.apiVersion,
      options: manifestOptions(options),
      windowSize: options.run.windowSize,
      custody: redactor
        ? {
            ...deps.custody,
            command_line: deps.custody.command_line.map((a) => redactor.text(a, userId)),
          }
        : deps.custody,
      media: options.run.media !== undefined,
      redactor,
      filters: {
        user_id: userId === undefined ? null : (redactor?.id(userId) ?? userId),
        since: isoOrNull(options.run.since),
        until: isoOrNull(options.run.until),
      },
    },
    client.metrics,
    store,
    () => clock.now(),
  );
  await sequence.open();
  const media =
    options.run.media === undefined
      ? undefined
      : new MediaArchive(options.run.media, clock, deps.random, signal);
  const writeFinishedMedia = async (): Promise<void> => {
    for (const outcome of media?.takeFinished() ?? []) await sequence.writeMedia(outcome);
  };
  // Downloads end inside the snapshot they started in: each publish waits for them first.
  if (media)
    sequence.onBeforePublish(async () => {
      await media.drain();
      await writeFinishedMedia();
    });
  const ctx: RowContext = {
    accountId: account.id,
    get snapshotId() {
      return sequence.snapshotId;
    },
  };

  const planner = new ConversationPlanner(store, runMode, prior, options.run.overlapMs);
  const hydration = new HydrationStrategy(api, options.run.hydrate, options.run.windowSize, logger);
  sequence.describeHydration(() => hydration.report);
  const checkpoints = new CheckpointCoordinator(sequence, options.run, clock, logger);
  let listingComplete = false;
  /** updated_time of conversations this run could not finish: the next run must list down to them. */
  const unfinished: number[] = [];
  const activities: ConversationActivity[] = [];
  /** Listed conversations whose shape was wrong: skipped and recorded; the watermark must not pass them. */
  let malformed = 0;
  let listed = 0;
  const totalCalls = (calls: Record<string, number>): number =>
    Object.values(calls).reduce((a, b) => a + b, 0);
  const startCalls = totalCalls(client.metrics.calls);
  const startedMs = clock.now();
  /** The weight each planned conversation was listed with (its share of the work, for the ETA). */
  const weights = new Map<string, number>();
  const weightOf = (c: ListedConversation): number => conversationWeight(c.window, options.run.windowSize);
  const progress = (stage: 'exporting' | 'publishing' | 'done'): void => {
    if (!deps.onProgress) return;
    const calls = totalCalls(client.metrics.calls);
    const done = activities.length;
    const known = Math.max(listed, hydration.fetchedConversations);
    const counts = sequence.runCounts;
    deps.onProgress({
      accountId: account.id,
      accountUsername: account.username,
      stage,
      conversationsListed: known,
      conversationsDone: done + planner.skipped,
      // Every conversation the run will export is listed (its ETA is an estimate, no longer a lower bound).
      listingComplete: listingComplete || hydration.listingFetched,
      messages: counts.messages,
      hydrated: counts.hydrated,
      calls,
      throttleWaitMs: client.metrics.throttleWaitMs,
      maxRps: options.client.maxRps,
      etaSeconds:
        stage === 'done'
          ? 0
          : hydration.work.etaSeconds(
              calls - startCalls,
              measuredPace(calls - startCalls, clock.now() - startedMs, options.client.maxRps),
            ),
      messagesPublished: sequence.publishedCounts.messages,
      conversationsSkipped: planner.skipped,
      stopReason,
    });
  };
  const onMalformed = (e: ContractError): void => {
    malformed++;
    sequence.recordFailure(recordedFailure('extract', e));
    logger.warn(`skipped a malformed conversation: ${e.message}`);
  };

  async function* plans(): AsyncGenerator<ConversationPlan> {
    const listing = hydration.conversations(options.run.account, account.id, options.run.userId, onMalformed);
    for await (const c of listing) {
      listed++;
      // Newest first: a conversation last updated before --since holds nothing newer, nor does any after it.
      const since = options.run.since;
      if (since !== undefined && c.updatedMs < since) {
        if (c.morePages) sequence.recordConversationListingCutShort();
        break;
      }
      const plan = planner.decide(c);
      if (plan === 'stop') break;
      if (plan === 'skip') {
        hydration.work.skip(weightOf(c));
        sequence.recordSkipped();
        continue;
      }
      await checkpoints.admit(c);
      weights.set(c.id, weightOf(c));
      yield plan;
    }
    listingComplete = true;
  }

  const conversationDeps = {
    api,
    hydration,
    hydrateLimit: pLimit(options.run.hydrateConcurrency),
    windowSize: options.run.windowSize,
    clock,
    ctx,
    timeWindow: { since: options.run.since, until: options.run.until },
    captured,
    honourUnsends: options.run.honourUnsends === true,
  };

  let stopReason: StopReason | undefined;
  let stopError: Error | undefined;
  try {
    for await (const event of mergeConcurrent(plans(), options.run.conversationConcurrency, (p) =>
      exportConversation(conversationDeps, p),
    )) {
      if (event.type === 'message') {
        await sequence.writeMessage(event.row);
        const withContent =
          event.row.hydration_status === 'hydrated' || event.row.hydration_status === 'captured';
        if (media && withContent) {
          for (const ref of mediaUrls(event.row)) {
            await media.enqueue(
              { conversationId: event.row.conversation_id, messageId: event.row.message_id, ...ref },
              sequence.openDir,
            );
          }
          await writeFinishedMedia();
        }
        checkpoints.messageWritten(event.row.conversation_id, event.row.hydration_status as HydrationStatus);
      } else if (event.type === 'failure') {
        sequence.recordFailure(event.failure);
        logger.warn(
          `${event.failure.stage} failed for ${event.failure.message_id ?? event.failure.conversation_id ?? 'the account'}`,
          { reason: event.failure.reason },
        );
      } else {
        await sequence.writeConversation(event.row, event.commit, event.activity, event.timeWindow);
        activities.push(event.activity);
        hydration.work.finish(weights.get(event.row.conversation_id) ?? 1);
        weights.delete(event.row.conversation_id);
        if (needsRetry(event.commit)) unfinished.push(event.commit.updatedMs);
        if (activities.length % 50 === 0) {
          logger.info(
            `progress: ${activities.length} conversations, ${sequence.runCounts.messages} messages written (${sequence.publishedCounts.messages} in published snapshots)`,
          );
        }
        await checkpoints.conversationFinished(event.row.conversation_id);
        progress('exporting');
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
    await checkpoints.writeInterrupted(ctx, stopReason);
  } finally {
    checkpoints.release();
  }

  const newestListedMs = planner.newestListedMs;
  const skipped = planner.skipped;
  if (
    options.run.userId !== undefined &&
    listingComplete &&
    newestListedMs === undefined &&
    stopReason === undefined
  ) {
    await sequence.discard();
    throw new NoSuchConversationError(options.run.userId, account.id);
  }
  // A run that found nothing to do publishes nothing: the state and the run's summary record that it ran.
  const publish = !(stopReason === undefined && sequence.isEmpty && sequence.published.length === 0);
  progress('publishing');
  let manifest: Manifest | undefined;
  try {
    manifest = publish ? await sequence.publish(true, stopReason) : undefined;
  } catch (e) {
    // A full disk or an I/O error while closing or publishing: stop every writer (the encoder threads too, or the
    // process would never exit) and remove the unpublished folder; the error says which file failed.
    await sequence.discard().catch(() => undefined);
    throw e;
  }
  progress('done');
  if (!publish) await sequence.discard();
  const anyPartial =
    stopReason !== undefined || unfinished.length > 0 || sequence.publishedCounts.failed > 0 || malformed > 0;
  // A one-person run (--user-id) saw one conversation: it says nothing about the account's other conversations.
  const windowed = options.run.since !== undefined || options.run.until !== undefined;
  // A malformed conversation may be anywhere in time: the watermark stays where it was, so the next run looks again.
  if (
    listingComplete &&
    stopReason === undefined &&
    options.run.userId === undefined &&
    !windowed &&
    malformed === 0
  ) {
    // Next run may stop listing at the newest conversation seen, unless something older was left unfinished.
    const watermark = unfinished.length > 0 ? Math.min(...unfinished) - 1 : newestListedMs;
    store.finishRun(watermark, runStartedMs);
  }
  const loss = lossReport(activities, options.run.windowSize);
  const warning = lossWarning(loss);
  if (warning)
    logger.warn(warning, {
      lost: loss.lost,
      recommended_interval_minutes: loss.recommended_interval_minutes,
    });
  if (!publish) logger.info('nothing changed since the last run: no snapshot published');
  // Captured events are marked as merged only once a published snapshot holds their rows.
  const spoolReport = captured?.finish(
    sequence.published.length > 0 ? clock.now() : undefined,
    options.run.webhookRetentionMs ?? DEFAULT_WEBHOOK_RETENTION_MS,
    clock.now(),
  );
  // Captured rows are counted with the published rows, like every other status.
  const webhooks = spoolReport ? { captured: sequence.publishedCounts.captured, ...spoolReport } : null;
  if (webhooks && webhooks.captured > 0)
    logger.info(
      `${webhooks.captured} message bodies the API could no longer give were filled from captured webhooks`,
    );
  if (webhooks && webhooks.pending > 0)
    logger.warn(
      `${webhooks.pending} captured messages are not in any listing yet; they stay in the webhook spool until one confirms them`,
    );
  const metrics = structuredClone(client.metrics);
  const summary: ExportSummary = {
    status: anyPartial ? 'partial' : 'complete',
    mode,
    resumedFromRunId,
    skippedConversations: skipped,
    stopReason,
    stopError,
    runId,
    snapshotDir: sequence.published[sequence.published.length - 1],
    snapshotDirs: [...sequence.published],
    accountId: account.id,
    counts: { ...sequence.publishedCounts },
    calls: Object.values(metrics.calls).reduce((a, b) => a + b, 0),
    metrics,
    loss,
    manifest,
    hydration: hydration.report,
    webhooks,
  };
  store.recordRun({
    runId,
    startedMs: runStartedMs,
    endedMs: clock.now(),
    mode: resuming ? 'resume' : mode,
    status: summary.status,
    snapshots: summary.snapshotDirs.length,
    calls: summary.calls,
    summary: {
      stop_reason: stopReason ?? null,
      counts: summary.counts,
      calls_by_endpoint: metrics.calls,
      skipped_conversations: skipped,
      snapshot_ids: summary.snapshotDirs.map(snapshotIdOfDir),
    },
  });
  return summary;
}

/** Every option except the secrets: the token (the run options say where it came from) and the redaction key. */
function manifestOptions(o: ExportOptions): Record<string, unknown> {
  const { token: _token, ...client } = o.client;
  const { redactKey, userId, ...run } = o.run;
  return {
    client,
    run: { ...run, redact: redactKey !== undefined, userId: redactKey === undefined ? userId : undefined },
    parquet: o.parquet,
  };
}
