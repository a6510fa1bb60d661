import type { ConversationsApi } from '../../graph/conversations-api.js';
import { toListedMessage } from '../transform.js';
import type { ListedMessage } from '../types.js';

/**
 * Stage 2: all message ids of one conversation, every page, newest first, each with its position (0 = newest).
 * Yields page by page so hydration of the first 20 can start before the rest is listed.
 */
export async function* expandMessages(
  api: ConversationsApi,
  conversationId: string,
): AsyncGenerator<{ items: ListedMessage[]; more: boolean }> {
  let position = 0;
  for await (const page of api.messageIds(conversationId)) {
    yield {
      items: page.items.map((item) => toListedMessage(item, position++, conversationId)),
      more: page.more,
    };
  }
}
