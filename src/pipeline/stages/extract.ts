import type { ConversationsApi } from '../../graph/conversations-api.js';
import { listedOrMalformed, type OnMalformed } from '../transform.js';
import type { ListedConversation } from '../types.js';

/** Stage 1: every conversation of the account (or of one person, with `userId`), newest first, page by page. */
export async function* extractConversations(
  api: ConversationsApi,
  account: string,
  accountId: string,
  userId: string | undefined,
  onMalformed: OnMalformed,
  onPage: (items: number, more: boolean) => void = () => undefined,
): AsyncGenerator<ListedConversation> {
  for await (const page of api.conversations(account, userId)) {
    onPage(page.items.length, page.more);
    for (const item of page.items) {
      const listed = listedOrMalformed(item, accountId, onMalformed);
      if (listed) yield { ...listed, morePages: page.more };
    }
  }
}
