import type { LimitFunction } from 'p-limit';
import type { Clock } from '../clock.js';
import type { ConversationsApi } from '../graph/conversations-api.js';
import { GraphPagingError, GraphRequestError } from '../graph/errors.js';
import { expandMessages } from './stages/expand.js';
import { hydratePage } from './stages/hydrate.js';
import { ContractError, toConversationRow, toMessageRow } from './transform.js';
import type { ExportEvent, ListedConversation, RowContext } from './types.js';

export interface ConversationDeps {
  api: ConversationsApi;
  hydrateLimit: LimitFunction;
  windowSize: number;
  clock: Clock;
  ctx: RowContext;
}

/**
 * Expand → hydrate → transform for one conversation. Emits its message rows page by page, then the conversation
 * row. A conversation whose listing fails after retries is reported as a failure (with what was listed so far).
 */
export async function* exportConversation(
  deps: ConversationDeps,
  conversation: ListedConversation,
): AsyncGenerator<ExportEvent> {
  const { api, hydrateLimit, windowSize, clock, ctx } = deps;
  const listedAt = clock.now();
  let messages = 0;
  let hydrated = 0;
  try {
    for await (const page of expandMessages(api, conversation.id)) {
      const outcomes = await hydratePage(api, hydrateLimit, page, windowSize);
      const extractedAt = clock.now();
      for (const [i, listed] of page.entries()) {
        const outcome = outcomes[i] ?? { status: 'outside_window' };
        messages++;
        if (outcome.status === 'hydrated') hydrated++;
        if (outcome.status === 'failed') {
          yield {
            type: 'failure',
            failure: {
              stage: 'hydrate',
              conversation_id: conversation.id,
              message_id: listed.id,
              kind: outcome.error.kind,
              reason: outcome.error.classification.reason,
              message: outcome.error.message,
            },
          };
        }
        yield { type: 'message', row: toMessageRow(ctx, conversation.id, listed, outcome, extractedAt) };
      }
    }
  } catch (e) {
    if (!(e instanceof GraphRequestError || e instanceof GraphPagingError || e instanceof ContractError))
      throw e;
    yield {
      type: 'failure',
      failure: {
        stage: 'expand',
        conversation_id: conversation.id,
        kind: e instanceof GraphRequestError ? e.kind : e.name,
        reason: e instanceof GraphRequestError ? e.classification.reason : e.name,
        message: e.message,
      },
    };
  }
  yield { type: 'conversation', row: toConversationRow(ctx, conversation, { messages, hydrated }, listedAt) };
}
