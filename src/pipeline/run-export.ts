import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import pLimit from 'p-limit';
import { ConversationsApi } from '../graph/conversations-api.js';
import { GraphClient } from '../graph/client.js';
import { refuseLink } from '../output-path.js';
import { reconcileSnapshots } from '../snapshots/reconcile.js';
import { accountDir, accountLockDir, accountStatePath, snapshotIdOfDir } from '../snapshots/layout.js';
import { acquireRunLock } from '../state/run-lock.js';
import {
  asStateFileError,
  STATE_FILE_SUFFIXES,
  StateFileCorruptError,
  StateStore,
} from '../state/state-store.js';
import { accountForToken, rememberAccountForToken } from '../state/token-accounts.js';
import { CheckpointCoordinator } from './publishing/checkpoint-coordinator.js';
import { mergeConcurrent } from './concurrency.js';
import { ConversationListing } from './conversation-listing.js';
import {
  chooseRunMode,
  ConversationPlanner,
  NoSuchConversationError,
  type RunMode,
} from './conversation-planner.js';
import { exportConversation } from './export-conversation.js';
import {
  DEFAULT_WEBHOOK_RETENTION_MS,
  type ExportDeps,
  type ExportOptions,
  type ExportSummary,
} from './export-types.js';
import { CapturedMessages, finishCaptured } from './extensions/captured-messages.js';
import { progressExtension } from './extensions/export-progress.js';
import { WindowAccounting } from './extensions/loss-report.js';
import { MediaArchive } from './extensions/media-archive.js';
import { mediaExtension } from './extensions/media-extension.js';
import { RunExtensions, type RunExtension } from './extensions/run-extension.js';
import { HydrationStrategy } from './hydration-strategy.js';
import { recordedFailure } from './recorded-failure.js';
import { Redactor } from './redaction.js';
import {
  NO_SNAPSHOT_TEXT,
  noSnapshotReason,
  personNotFound,
  publishes,
  runOutcome,
  stopReasonOf,
  type RunFacts,
} from './run-outcome.js';
import { SnapshotSequence, type Manifest, type StopReason } from './publishing/snapshot-sequence.js';
import type { RowContext } from './types.js';

export { NoSuchConversationError } from './conversation-planner.js';
export type { Counts, Manifest, StopReason } from './publishing/snapshot-sequence.js';
export {
  DEFAULT_WEBHOOK_RETENTION_MS,
  type ExportDeps,
  type ExportOptions,
  type ExportSummary,
  type RunOptions,
} from './export-types.js';

/** How far Meta's clock (the watermark's source) may run ahead of this machine's before the state is doubted. */
const WATERMARK_SKEW_MS = 86_400_000;

const isoOrNull = (ms: number | undefined): string | null =>
  ms === undefined ? null : new Date(ms).toISOString();

const totalCalls = (calls: Record<string, number>): number => Object.values(calls).reduce((a, b) => a + b, 0);

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
  const releases: Array<() => Promise<void>> = [];
  try {
    const account = await lockAccount(options, deps, api, releases);
    const statePath = accountStatePath(options.run.stateDir, account.id);
    // Checked before the snapshots are read: an account folder that is a link is refused by every command alike.
    refuseLink(accountDir(options.run.outputRoot, account.id));
    const store = await openState(options, deps, statePath);
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
        return await exportWithState(options, deps, { client, api, account, store, captured });
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

/**
 * Lock first: an overlapping run must not spend the running export's call budget before it sees the lock. The
 * account of a token seen before is locked before any call; a new one once resolved.
 */
async function lockAccount(
  options: ExportOptions,
  deps: ExportDeps,
  api: ConversationsApi,
  releases: Array<() => Promise<void>>,
): Promise<{ id: string; username: string | undefined }> {
  const { clock, logger } = deps;
  const lock = (accountId: string): Promise<() => Promise<void>> =>
    acquireRunLock(
      accountLockDir(options.run.stateDir, accountId),
      () => clock.now(),
      30_000,
      (e) => logger.error(`the run lock was compromised: ${e.message}`),
    );
  const knownId =
    options.run.account === 'me'
      ? await accountForToken(options.run.stateDir, options.client.token)
      : options.run.account;
  if (knownId !== undefined) releases.push(await lock(knownId));
  const account = await api.resolveAccount(options.run.account);
  if (account.id !== knownId) releases.push(await lock(account.id));
  if (options.run.account === 'me')
    await rememberAccountForToken(options.run.stateDir, options.client.token, account.id);
  return account;
}

/** The account's run state, under its lock; `--rebuild-state` starts it afresh, a watermark from the future is refused. */
async function openState(options: ExportOptions, deps: ExportDeps, statePath: string): Promise<StateStore> {
  let store: StateStore;
  try {
    if (options.run.rebuildState === true) {
      // Under the lock: nothing else uses the file. Snapshots are the source of truth; the state is an index.
      for (const suffix of STATE_FILE_SUFFIXES) await rm(`${statePath}${suffix}`, { force: true });
      deps.logger.warn(
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
  if (watermarkMs !== undefined && watermarkMs > deps.clock.now() + WATERMARK_SKEW_MS) {
    store.close();
    throw new StateFileCorruptError(
      statePath,
      `its watermark ${new Date(watermarkMs).toISOString()} is later than now`,
    );
  }
  return store;
}

/** What a run works with once the account is locked and its state open. */
interface RunInputs {
  client: GraphClient;
  api: ConversationsApi;
  account: { id: string; username: string | undefined };
  store: StateStore;
  captured: CapturedMessages | undefined;
}

/** One run's parts, built once: the snapshot sequence, the planner, the listing, checkpoints and extensions. */
interface ExportRun extends RunInputs {
  options: ExportOptions;
  deps: ExportDeps;
  runMode: RunMode;
  runId: string;
  runStartedMs: number;
  sequence: SnapshotSequence;
  hydration: HydrationStrategy;
  planner: ConversationPlanner;
  checkpoints: CheckpointCoordinator;
  listing: ConversationListing;
  accounting: WindowAccounting;
  extensions: RunExtensions;
  ctx: RowContext;
  stop: { reason: StopReason | undefined; error: Error | undefined };
}

async function exportWithState(
  options: ExportOptions,
  deps: ExportDeps,
  inputs: RunInputs,
): Promise<ExportSummary> {
  const run = await startRun(options, deps, inputs);
  await exportConversations(run);
  return endRun(run);
}

async function startRun(options: ExportOptions, deps: ExportDeps, inputs: RunInputs): Promise<ExportRun> {
  const { clock, logger } = deps;
  const { account, store, client } = inputs;
  const prior = store.account();
  const runMode = chooseRunMode(options.run, store, prior);
  const { mode, resuming, resumedFromRunId } = runMode;
  logger.info(
    `${resuming ? 'resuming the unfinished full' : mode} export of account ${account.id}${account.username ? ` (@${account.username})` : ''}`,
    resuming ? { resumed_from_run_id: resumedFromRunId } : undefined,
  );
  const runId = randomUUID();
  const runStartedMs = clock.now();
  const sequence = openSequence(options, deps, inputs, runMode, runId, runStartedMs);
  await sequence.open();
  const planner = new ConversationPlanner(store, runMode, prior, options.run.overlapMs);
  const hydration = new HydrationStrategy(inputs.api, options.run.hydrate, options.run.windowSize, logger);
  sequence.describeHydration(() => hydration.report);
  const checkpoints = new CheckpointCoordinator(sequence, options.run, clock, logger);
  const listing = new ConversationListing(
    { ...options.run, accountId: account.id },
    hydration,
    planner,
    checkpoints,
    sequence,
    logger,
  );
  const accounting = new WindowAccounting(options.run.windowSize);
  const stop: ExportRun['stop'] = { reason: undefined, error: undefined };
  const list: RunExtension[] = [accounting];
  if (options.run.media !== undefined)
    list.push(mediaExtension(new MediaArchive(options.run.media, clock, deps.random, deps.signal), sequence));
  if (deps.onProgress)
    list.push(
      progressExtension(deps.onProgress, {
        accountId: account.id,
        accountUsername: account.username,
        maxRps: options.client.maxRps,
        now: () => clock.now(),
        calls: () => totalCalls(client.metrics.calls),
        throttleWaitMs: () => client.metrics.throttleWaitMs,
        conversationsListed: () => Math.max(listing.listed, hydration.fetchedConversations),
        conversationsDone: () => listing.finished + planner.skipped,
        conversationsSkipped: () => planner.skipped,
        // Every conversation the run will export is listed (its ETA is an estimate, no longer a lower bound).
        listingComplete: () => listing.complete || hydration.listingFetched,
        counts: () => sequence.runCounts,
        messagesPublished: () => sequence.publishedCounts.messages,
        stopReason: () => stop.reason,
        etaSeconds: (calls, pace) => hydration.work.etaSeconds(calls, pace),
      }),
    );
  const extensions = new RunExtensions(list);
  // Work that must end inside a snapshot (media downloads) ends before each publish.
  sequence.onBeforePublish(() => extensions.beforePublish());
  const ctx: RowContext = {
    accountId: account.id,
    get snapshotId() {
      return sequence.snapshotId;
    },
  };
  return {
    ...inputs,
    ...{ options, deps, runMode, runId, runStartedMs, sequence, hydration, planner, checkpoints, listing },
    ...{ accounting, extensions, ctx, stop },
  };
}

/** The snapshot sequence of a run, with what its manifests record (never a secret; redacted where asked). */
function openSequence(
  options: ExportOptions,
  deps: ExportDeps,
  { account, client, store }: RunInputs,
  runMode: RunMode,
  runId: string,
  runStartedMs: number,
): SnapshotSequence {
  const { redactKey, userId } = options.run;
  const redactor =
    redactKey === undefined ? undefined : new Redactor(redactKey, account.id, account.username);
  return new SnapshotSequence(
    options.run.outputRoot,
    options.parquet,
    {
      runId,
      runStartedMs,
      mode: runMode.mode,
      resumedFromRunId: runMode.resumedFromRunId,
      accountId: account.id,
      accountUsername: account.username,
      toolVersion: deps.toolVersion,
      baseUrl: options.client.baseUrl,
      apiVersion: options.client.apiVersion,
      options: manifestOptions(options),
      windowSize: options.run.windowSize,
      custody: redactor
        ? { ...deps.custody, command_line: deps.custody.command_line.map((a) => redactor.text(a, userId)) }
        : deps.custody,
      media: options.run.media !== undefined,
      formats: options.run.formats,
      redactor,
      filters: {
        user_id: userId === undefined ? null : (redactor?.id(userId) ?? userId),
        since: isoOrNull(options.run.since),
        until: isoOrNull(options.run.until),
      },
    },
    client.metrics,
    store,
    () => deps.clock.now(),
  );
}

/**
 * The export loop: the planned conversations, `conversationConcurrency` at a time, each expanded, hydrated and
 * transformed into rows that are written as they come; extensions see each row and each finished conversation.
 * An error that stops the run early (cancelled, token refused, listing failed) still writes what was done.
 */
async function exportConversations(run: ExportRun): Promise<void> {
  const { options, deps, sequence, checkpoints, listing, extensions } = run;
  const conversationDeps = {
    api: run.api,
    hydration: run.hydration,
    hydrateLimit: pLimit(options.run.hydrateConcurrency),
    windowSize: options.run.windowSize,
    clock: deps.clock,
    ctx: run.ctx,
    timeWindow: { since: options.run.since, until: options.run.until },
    captured: run.captured,
    honourUnsends: options.run.honourUnsends === true,
  };
  try {
    for await (const event of mergeConcurrent(listing.plans(), options.run.conversationConcurrency, (p) =>
      exportConversation(conversationDeps, p),
    )) {
      if (event.type === 'message') {
        await sequence.writeMessage(event.row);
        await extensions.messageWritten(event.row);
        checkpoints.messageWritten(event.row.conversation_id, event.row.hydration_status);
      } else if (event.type === 'failure') {
        sequence.recordFailure(event.failure);
        const { stage, message_id, conversation_id, reason } = event.failure;
        deps.logger.warn(`${stage} failed for ${message_id ?? conversation_id ?? 'the account'}`, { reason });
      } else {
        await sequence.writeConversation(event.row, event.commit, event.activity, event.timeWindow);
        listing.conversationFinished(event.row.conversation_id, event.commit);
        extensions.conversationFinished(event.activity);
        if (listing.finished % 50 === 0)
          deps.logger.info(
            `progress: ${listing.finished} conversations, ${sequence.runCounts.messages} messages written (${sequence.publishedCounts.messages} in published snapshots)`,
          );
        await checkpoints.conversationFinished(event.row.conversation_id);
        extensions.stage('exporting');
      }
    }
  } catch (e) {
    const reason = stopReasonOf(e, deps.signal?.aborted === true);
    if (reason === undefined) {
      await sequence.discard();
      throw e;
    }
    run.stop.reason = reason;
    if (reason === 'cancelled')
      deps.logger.warn('cancelled: publishing what was completed as a partial snapshot');
    else run.stop.error = e as Error;
    if (reason === 'extract_failed') sequence.recordFailure(recordedFailure('extract', e as Error));
    await checkpoints.writeInterrupted(run.ctx, reason);
  } finally {
    checkpoints.release();
  }
}

/** The end of a run: the last publish (or none), the state's watermark, the reports, and the run's record. */
async function endRun(run: ExportRun): Promise<ExportSummary> {
  const { options, deps, sequence, listing, store, stop } = run;
  const facts: RunFacts = {
    stopReason: stop.reason,
    listingComplete: listing.complete,
    onePerson: options.run.userId !== undefined,
    timeWindowed: options.run.since !== undefined || options.run.until !== undefined,
    malformed: listing.malformed,
    unfinishedUpdatedMs: listing.unfinishedUpdatedMs,
    newestListedMs: run.planner.newestListedMs,
    nothingWritten: sequence.isEmpty && sequence.published.length === 0,
  };
  if (personNotFound(facts)) {
    await sequence.discard();
    throw new NoSuchConversationError(options.run.userId ?? '', run.account.id);
  }
  const publish = publishes(facts);
  run.extensions.stage('publishing');
  let manifest: Manifest | undefined;
  try {
    manifest = publish ? await sequence.publish(true, stop.reason) : undefined;
  } catch (e) {
    // A full disk or an I/O error while closing or publishing: stop every writer (the encoder threads too, or the
    // process would never exit) and remove the unpublished folder; the error says which file failed.
    await sequence.discard().catch(() => undefined);
    throw e;
  }
  run.extensions.stage('done');
  if (!publish) await sequence.discard();
  const outcome = runOutcome(facts, sequence.publishedCounts.failed);
  if (outcome.finish) store.finishRun(outcome.finish.watermarkMs, run.runStartedMs);
  const loss = run.accounting.report((message, fields) => deps.logger.warn(message, fields));
  const noSnapshot = publish ? undefined : noSnapshotReason(facts);
  if (noSnapshot !== undefined) deps.logger.info(NO_SNAPSHOT_TEXT[noSnapshot]);
  const webhooks = finishCaptured(
    run.captured,
    {
      publishedAtMs: sequence.published.length > 0 ? deps.clock.now() : undefined,
      retentionMs: options.run.webhookRetentionMs ?? DEFAULT_WEBHOOK_RETENTION_MS,
      nowMs: deps.clock.now(),
      // Captured rows are counted with the published rows, like every other status.
      capturedRows: sequence.publishedCounts.captured,
    },
    deps.logger,
  );
  const metrics = structuredClone(run.client.metrics);
  const summary: ExportSummary = {
    status: outcome.status,
    mode: run.runMode.mode,
    resumedFromRunId: run.runMode.resumedFromRunId,
    skippedConversations: run.planner.skipped,
    stopReason: stop.reason,
    stopError: stop.error,
    runId: run.runId,
    snapshotDir: sequence.published[sequence.published.length - 1],
    snapshotDirs: [...sequence.published],
    noSnapshot,
    accountId: run.account.id,
    counts: { ...sequence.publishedCounts },
    calls: totalCalls(metrics.calls),
    metrics,
    loss,
    manifest,
    hydration: run.hydration.report,
    webhooks,
  };
  recordRun(run, summary);
  return summary;
}

function recordRun(run: ExportRun, summary: ExportSummary): void {
  run.store.recordRun({
    runId: run.runId,
    startedMs: run.runStartedMs,
    endedMs: run.deps.clock.now(),
    mode: run.runMode.resuming ? 'resume' : run.runMode.mode,
    status: summary.status,
    snapshots: summary.snapshotDirs.length,
    calls: summary.calls,
    summary: {
      stop_reason: summary.stopReason ?? null,
      counts: summary.counts,
      calls_by_endpoint: summary.metrics.calls,
      skipped_conversations: summary.skippedConversations,
      snapshot_ids: summary.snapshotDirs.map(snapshotIdOfDir),
    },
  });
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
