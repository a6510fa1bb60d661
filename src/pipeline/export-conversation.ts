import type { LimitFunction } from 'p-limit';
import type { Clock } from '../clock.js';
import type { ConversationsApi } from '../graph/conversations-api.js';
import { GraphPagingError, GraphRequestError } from '../graph/errors.js';
import { knownStatus } from '../schema/tables.js';
import { KNOWN_PER_CONVERSATION, type ConversationCommit, type KnownMessage } from '../state/state-store.js';
import type { ConversationActivity } from './extensions/loss-report.js';
import { MessageBoundary } from './message-boundary.js';
import type { HydrationStrategy, ListedItemPage } from './hydration-strategy.js';
import { hydratePage } from './stages/hydrate.js';
import { recordedFailure } from './recorded-failure.js';
import { ContractError } from '../graph/wire-shapes.js';
import { toConversationRow, toMessageRow, type RowOutcome } from './transform.js';
import type { CapturedMessages } from './extensions/captured-messages.js';
import type { ExportEvent, ListedConversation, RowContext, TimeWindow, TimeWindowEffect } from './types.js';

export interface ConversationDeps {
  api: ConversationsApi;
  /** How pages of messages are listed, and which come with their details. */
  hydration: HydrationStrategy;
  hydrateLimit: LimitFunction;
  windowSize: number;
  clock: Clock;
  ctx: RowContext;
  /** Only messages inside it become rows; listing stops at `since` (messages come newest first). */
  timeWindow: TimeWindow;
  /** What `listen` captured for the account: content the API can no longer give, and unsends. */
  captured: CapturedMessages | undefined;
  /** --honour-unsends: a message a captured unsend names keeps no content. */
  honourUnsends: boolean;
}

const inside = (w: TimeWindow, createdMs: number): boolean =>
  (w.since === undefined || createdMs >= w.since) && (w.until === undefined || createdMs < w.until);

/** What is already archived for a conversation (incremental runs); undefined for a full export of it. */
export interface ConversationPlan {
  conversation: ListedConversation;
  known: ReadonlyMap<string, KnownMessage> | undefined;
  /** When it was last listed, for message-rate estimates. */
  lastCheckedMs: number | undefined;
  /** Messages created after this instant arrived since it was last read (loss accounting); undefined on a first read. */
  lossSinceMs: number | undefined;
  /** Its total number of messages when it was last listed; undefined when unknown (then it is listed to the end). */
  previousTotal: number | undefined;
}

/** What one conversation's export counted, for its conversation row, its state and the loss accounting. */
class ConversationTally {
  written = 0;
  hydrated = 0;
  newMessages = 0;
  listed = 0;
  lost = 0;
  /** The newest messages with their status, for the state (what the next run need not read again). */
  readonly remembered: ConversationCommit['messages'] = [];
  readonly effect: TimeWindowEffect = { outside: 0, detailReadsSkipped: 0, cutShort: false };
}

/**
 * Expand → hydrate → transform for one conversation. Emits its message rows page by page, then the conversation
 * row with what the state must remember. In an incremental run, listing stops at the page where archived messages
 * begin. A listing that fails after retries is reported as a failure and leaves the conversation incomplete.
 */
export async function* exportConversation(
  deps: ConversationDeps,
  plan: ConversationPlan,
): AsyncGenerator<ExportEvent> {
  const { hydration, windowSize, clock, timeWindow } = deps;
  const { conversation } = plan;
  const listedAt = clock.now();
  const boundary = plan.known
    ? new MessageBoundary(plan.known, windowSize)
    : MessageBoundary.none(windowSize);
  const tally = new ConversationTally();
  let stoppedAtBoundary = false;
  let stoppedAtSince = false;
  let complete = true;
  try {
    for await (const listing of hydration.pages(conversation)) {
      yield* pageEvents(deps, plan, listing, boundary, tally);
      // Older pages were archived by earlier runs: no call for them, unless the total is unknown and must be counted.
      if (boundary.boundaryReached && plan.previousTotal !== undefined) {
        stoppedAtBoundary = true;
        break;
      }
      // Newest first: once a message is older than --since, so is everything after it.
      const since = timeWindow.since;
      if (since !== undefined && listing.items.some((item) => item.m.createdMs < since)) {
        stoppedAtSince = listing.more;
        tally.effect.cutShort = listing.more;
        break;
      }
    }
  } catch (e) {
    if (!(e instanceof GraphRequestError || e instanceof GraphPagingError || e instanceof ContractError))
      throw e;
    complete = false;
    yield { type: 'failure', failure: recordedFailure('expand', e, { conversation_id: conversation.id }) };
  }
  const total =
    !complete || stoppedAtSince
      ? null
      : stoppedAtBoundary
        ? (plan.previousTotal ?? 0) + tally.newMessages
        : tally.listed;
  yield conversationEvent(deps, plan, tally, { listedAt, complete, total });
}

/** One listed page: the messages inside the time window that are not archived yet, hydrated and turned into rows. */
async function* pageEvents(
  deps: ConversationDeps,
  plan: ConversationPlan,
  listing: ListedItemPage,
  boundary: MessageBoundary,
  tally: ConversationTally,
): AsyncGenerator<ExportEvent> {
  const { api, hydrateLimit, windowSize, clock, ctx, timeWindow, captured } = deps;
  const { conversation } = plan;
  tally.listed += listing.items.length;
  const listed = listing.items.filter((item) => inside(timeWindow, item.m.createdMs));
  const outside = listing.items.filter((item) => !inside(timeWindow, item.m.createdMs));
  tally.effect.outside += outside.length;
  tally.effect.detailReadsSkipped += outside.filter(
    (item) => item.m.position < windowSize && item.detail === undefined,
  ).length;
  const fresh = listed
    .map((item) => ({ item, decision: boundary.decide(item.m) }))
    .filter((x) => x.decision !== 'known');
  const outcomes = await hydratePage(
    api,
    hydrateLimit,
    fresh.map((x) => x.item),
    windowSize,
  );
  const extractedAt = clock.now();
  for (const [i, { item, decision }] of fresh.entries()) {
    const m = item.m;
    let outcome: RowOutcome = outcomes[i] ?? { status: 'outside_window' };
    // What the API can no longer give may have been captured by the webhook listener.
    if (captured && (outcome.status === 'outside_window' || outcome.status === 'unavailable')) {
      const found = captured.find(m, conversation.participant?.id);
      if (found) outcome = { status: 'captured', captured: found };
    }
    const deletedAtMs = captured?.unsentAt(m.id);
    captured?.written(m.id);
    tally.written++;
    if (outcome.status === 'hydrated') tally.hydrated++;
    if (decision === 'new') tally.newMessages++;
    // Graph times have whole seconds: a message of the second the previous run started in may be newer than it.
    const arrivedSincePreviousRun =
      plan.lossSinceMs !== undefined && m.createdMs >= Math.floor(plan.lossSinceMs / 1000) * 1000;
    if (outcome.status === 'outside_window' && arrivedSincePreviousRun) tally.lost++;
    if (outcome.status === 'failed') {
      const ids = { conversation_id: conversation.id, message_id: m.id };
      yield { type: 'failure', failure: recordedFailure('hydrate', outcome.error, ids) };
    }
    if (m.position < KNOWN_PER_CONVERSATION) {
      tally.remembered.push({
        messageId: m.id,
        createdMs: m.createdMs,
        status: knownStatus(outcome.status),
        position: m.position,
      });
    }
    const unsend = deletedAtMs === undefined ? undefined : { deletedAtMs, honour: deps.honourUnsends };
    yield { type: 'message', row: toMessageRow(ctx, conversation.id, m, outcome, extractedAt, unsend) };
  }
}

/** The conversation's row, what the state remembers of it, and its activity for the loss accounting. */
function conversationEvent(
  deps: ConversationDeps,
  plan: ConversationPlan,
  tally: ConversationTally,
  end: { listedAt: number; complete: boolean; total: number | null },
): ExportEvent {
  const { conversation } = plan;
  const activity: ConversationActivity = {
    conversationId: conversation.id,
    newMessages: tally.newMessages,
    lost: tally.lost,
    elapsedMs: plan.lastCheckedMs === undefined ? undefined : end.listedAt - plan.lastCheckedMs,
  };
  const commit: ConversationCommit = {
    conversationId: conversation.id,
    updatedMs: conversation.updatedMs,
    checkedMs: end.listedAt,
    complete: end.complete,
    messageTotal: end.total ?? undefined,
    messages: tally.remembered,
    windowSize: deps.windowSize,
  };
  const counts = { messages: tally.written, hydrated: tally.hydrated, total: end.total };
  return {
    type: 'conversation',
    row: toConversationRow(deps.ctx, conversation, counts, end.listedAt),
    commit,
    activity,
    timeWindow: tally.effect,
  };
}
