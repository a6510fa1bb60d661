import type { LimitFunction } from 'p-limit';
import type { Clock } from '../clock.js';
import type { ConversationsApi } from '../graph/conversations-api.js';
import { GraphPagingError, GraphRequestError } from '../graph/errors.js';
import { KNOWN_PER_CONVERSATION, type ConversationCommit, type KnownMessage } from '../state/state-store.js';
import type { ConversationActivity } from './extensions/loss-report.js';
import { MessageBoundary } from './message-boundary.js';
import type { HydrationStrategy } from './hydration-strategy.js';
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

/**
 * Expand → hydrate → transform for one conversation. Emits its message rows page by page, then the conversation
 * row with what the state must remember. In an incremental run, listing stops at the page where archived messages
 * begin. A listing that fails after retries is reported as a failure and leaves the conversation incomplete.
 */
export async function* exportConversation(
  deps: ConversationDeps,
  plan: ConversationPlan,
): AsyncGenerator<ExportEvent> {
  const { api, hydration, hydrateLimit, windowSize, clock, ctx, timeWindow, captured } = deps;
  const { conversation } = plan;
  const listedAt = clock.now();
  const boundary = plan.known
    ? new MessageBoundary(plan.known, windowSize)
    : MessageBoundary.none(windowSize);
  const remembered: ConversationCommit['messages'] = [];
  let written = 0;
  let hydrated = 0;
  let newMessages = 0;
  let listedCount = 0;
  let stoppedAtBoundary = false;
  let stoppedAtSince = false;
  const effect: TimeWindowEffect = { outside: 0, detailReadsSkipped: 0, cutShort: false };
  let lost = 0;
  let complete = true;
  try {
    for await (const listing of hydration.pages(conversation)) {
      listedCount += listing.items.length;
      const listed = listing.items.filter((item) => inside(timeWindow, item.m.createdMs));
      const outside = listing.items.filter((item) => !inside(timeWindow, item.m.createdMs));
      effect.outside += outside.length;
      effect.detailReadsSkipped += outside.filter(
        (item) => item.m.position < windowSize && item.detail === undefined,
      ).length;
      const fresh = listed
        .map((item) => ({ item, decision: boundary.decide(item.m) }))
        .filter((x) => x.decision !== 'known');
      const page = fresh.map((x) => x.item.m);
      const outcomes = await hydratePage(
        api,
        hydrateLimit,
        fresh.map((x) => x.item),
        windowSize,
      );
      const extractedAt = clock.now();
      for (const [i, m] of page.entries()) {
        let outcome: RowOutcome = outcomes[i] ?? { status: 'outside_window' };
        // What the API can no longer give may have been captured by the webhook listener.
        if (captured && (outcome.status === 'outside_window' || outcome.status === 'unavailable')) {
          const found = captured.find(m, conversation.participant?.id);
          if (found) outcome = { status: 'captured', captured: found };
        }
        const deletedAtMs = captured?.unsentAt(m.id);
        captured?.written(m.id);
        written++;
        if (outcome.status === 'hydrated') hydrated++;
        if (fresh[i]?.decision === 'new') newMessages++;
        // Graph times have whole seconds: a message of the second the previous run started in may be newer than it.
        const arrivedSincePreviousRun =
          plan.lossSinceMs !== undefined && m.createdMs >= Math.floor(plan.lossSinceMs / 1000) * 1000;
        if (outcome.status === 'outside_window' && arrivedSincePreviousRun) lost++;
        if (outcome.status === 'failed') {
          yield {
            type: 'failure',
            failure: recordedFailure('hydrate', outcome.error, {
              conversation_id: conversation.id,
              message_id: m.id,
            }),
          };
        }
        if (m.position < KNOWN_PER_CONVERSATION) {
          remembered.push({
            messageId: m.id,
            createdMs: m.createdMs,
            // Captured content is final, as hydrated content is: nothing to read again.
            status: outcome.status === 'captured' ? 'hydrated' : outcome.status,
            position: m.position,
          });
        }
        const unsend = deletedAtMs === undefined ? undefined : { deletedAtMs, honour: deps.honourUnsends };
        yield { type: 'message', row: toMessageRow(ctx, conversation.id, m, outcome, extractedAt, unsend) };
      }
      // Older pages were archived by earlier runs: no call for them, unless the total is unknown and must be counted.
      if (boundary.boundaryReached && plan.previousTotal !== undefined) {
        stoppedAtBoundary = true;
        break;
      }
      // Newest first: once a message is older than --since, so is everything after it.
      const since = timeWindow.since;
      if (since !== undefined && listing.items.some((item) => item.m.createdMs < since)) {
        stoppedAtSince = listing.more;
        effect.cutShort = listing.more;
        break;
      }
    }
  } catch (e) {
    if (!(e instanceof GraphRequestError || e instanceof GraphPagingError || e instanceof ContractError))
      throw e;
    complete = false;
    yield { type: 'failure', failure: recordedFailure('expand', e, { conversation_id: conversation.id }) };
  }
  const activity: ConversationActivity = {
    conversationId: conversation.id,
    newMessages,
    lost,
    elapsedMs: plan.lastCheckedMs === undefined ? undefined : listedAt - plan.lastCheckedMs,
  };
  const total =
    !complete || stoppedAtSince
      ? null
      : stoppedAtBoundary
        ? (plan.previousTotal ?? 0) + newMessages
        : listedCount;
  const commit: ConversationCommit = {
    conversationId: conversation.id,
    updatedMs: conversation.updatedMs,
    checkedMs: listedAt,
    complete,
    messageTotal: total ?? undefined,
    messages: remembered,
    windowSize,
  };
  yield {
    type: 'conversation',
    row: toConversationRow(ctx, conversation, { messages: written, hydrated, total }, listedAt),
    commit,
    activity,
    timeWindow: effect,
  };
}
