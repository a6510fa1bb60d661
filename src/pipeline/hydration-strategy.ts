import {
  nextWithoutToken,
  type ConversationsApi,
  type MessageDetail,
  type MessagePagingReport,
} from '../graph/conversations-api.js';
import { GraphRequestError } from '../graph/errors.js';
import type { MessageListContinuation } from '../graph/message-list.js';
import { ContractError, messageDetailSchema, parseWire } from '../graph/wire-shapes.js';
import type { Logger } from '../logger.js';
import { conversationWeight, WorkTally } from './extensions/export-progress.js';
import { expandMessages } from './stages/expand.js';
import { extractConversations } from './stages/extract.js';
import { listedOrMalformed, toListedMessage, type OnMalformed } from './transform.js';
import type { ListedConversation, ListedMessage } from './types.js';

/** `--hydrate`: how the details of the 20 most recent messages are read. */
export type HydrateMode = 'auto' | 'expand' | 'per-message';

/** A listed message, with its details when the listing call already carried them. */
export interface ListedItem {
  m: ListedMessage;
  detail: MessageDetail | undefined;
  /** The listing carried details that are malformed: the message is recorded as failed. */
  invalid?: ContractError | undefined;
}

/** One page of a conversation's messages, and whether more pages follow (a call each). */
export interface ListedItemPage {
  items: ListedItem[];
  more: boolean;
}

export interface HydrationReport {
  /** What the run used in the end. */
  strategy: 'expand' | 'per-message';
  /** Why `auto` gave up on expansion (once per run), if it did. */
  fallback: { reason: string } | null;
  /** Present when message lists had to continue by cursor (a link refused, or links left out), and why. */
  paging?: MessagePagingReport;
}

/** The `messages` window a conversation of the listing carried, if any (its `next` link without the token). */
function windowOf(item: unknown): ListedConversation['window'] {
  type Nested = { data?: unknown; paging?: { next?: unknown; cursors?: { after?: unknown } } };
  const messages = (item as { messages?: Nested } | null)?.messages;
  if (!messages || !Array.isArray(messages.data)) return undefined;
  const after = messages.paging?.cursors?.after;
  return {
    items: messages.data as unknown[],
    next: nextWithoutToken(messages.paging?.next),
    after: typeof after === 'string' && after !== '' ? after : undefined,
  };
}

/** A listed item carries details when any detail field came with it. */
function detailed(item: unknown): boolean {
  const m = item as Record<string, unknown> | null;
  return m !== null && (m['from'] !== undefined || m['to'] !== undefined || m['message'] !== undefined);
}

/**
 * The seam between listing and hydration. `expand` asks the conversation listing to carry each conversation's 20
 * most recent messages with their details (nested field expansion) and lists the rest with ids and times only;
 * `per-message` lists ids and leaves every detail to one call per message. `auto` starts with expansion and falls
 * back to per-message for the rest of the run when the first listing page refuses it or ignores its detail fields.
 * Details are never asked of more than the window.
 */
export class HydrationStrategy {
  private current: 'expand' | 'per-message';
  /** Conversations on the listing pages fetched so far (ahead of those handed out: a page holds up to 100). */
  fetchedConversations = 0;
  /** The work those conversations look like (see WorkTally): the ETA's measure of what is left. */
  readonly work = new WorkTally();
  /** The last listing page has been fetched: every conversation the run will see is counted in `work`. */
  listingFetched = false;
  private fallbackReason: string | undefined;

  constructor(
    private readonly api: ConversationsApi,
    private readonly mode: HydrateMode,
    private readonly windowSize: number,
    private readonly logger: Logger,
  ) {
    this.current = mode === 'per-message' ? 'per-message' : 'expand';
  }

  get report(): HydrationReport {
    return {
      strategy: this.current,
      fallback: this.fallbackReason === undefined ? null : { reason: this.fallbackReason },
      ...(this.api.paging.continuation === 'cursors' ? { paging: this.api.paging } : {}),
    };
  }

  /**
   * Every conversation of the account (or of one person), newest first. With expansion, the listing itself carries
   * each conversation's window of detailed messages, so most conversations need no call of their own; `auto`
   * falls back to a plain listing when the first page is refused (or still too large after shrinking).
   */
  async *conversations(
    account: string,
    accountId: string,
    userId: string | undefined,
    onMalformed: OnMalformed,
  ): AsyncGenerator<ListedConversation> {
    for await (const c of this.listing(account, accountId, userId, onMalformed)) {
      // The `user_id` filter is Meta's (GUESS that it is honoured): a listing that ignored it must not put other
      // people's conversations into a one-person export.
      if (userId === undefined || c.participant?.id === userId) yield c;
    }
  }

  private async *listing(
    account: string,
    accountId: string,
    userId: string | undefined,
    onMalformed: OnMalformed,
  ): AsyncGenerator<ListedConversation> {
    if (this.current === 'expand') {
      let first = true;
      try {
        for await (const page of this.api.conversations(account, userId, this.windowSize)) {
          this.fetchedConversations += page.items.length;
          const windows = page.items.map(windowOf);
          for (const w of windows) this.work.list(conversationWeight(w, this.windowSize));
          if (!page.more) this.listingFetched = true;
          for (const w of windows) if (w) this.api.observeMessageList(w.next !== undefined);
          if (first && this.mode === 'auto') {
            const items = windows.flatMap((w) => w?.items ?? []);
            if (items.length > 0 && !items.some(detailed))
              this.fallBack('the server ignored the detail fields of the expansion');
          }
          first = false;
          for (const [i, item] of page.items.entries()) {
            const listed = listedOrMalformed(item, accountId, onMalformed);
            if (listed) yield { ...listed, morePages: page.more, window: windows[i] };
          }
        }
        return;
      } catch (e) {
        if (!first || this.mode !== 'auto' || !(e instanceof GraphRequestError) || e.kind === 'auth') throw e;
        this.fallBack(
          `the server refused the expansion in the conversation listing (${e.classification.reason})`,
        );
      }
    }
    yield* extractConversations(this.api, account, accountId, userId, onMalformed, (n, more) => {
      this.fetchedConversations += n;
      this.work.list(n); // listed without windows: each needs calls of its own
      if (!more) this.listingFetched = true;
    });
  }

  /**
   * A conversation's messages, newest first, page by page: its window as the listing carried it (no call), then the
   * rest of the ids; without a window, every id is listed and each detail read on its own.
   */
  async *pages(conversation: ListedConversation): AsyncGenerator<ListedItemPage> {
    if (conversation.window) {
      yield* this.fromWindow(conversation.id, conversation.window);
      return;
    }
    for await (const page of expandMessages(this.api, conversation.id)) {
      yield { items: page.items.map((m) => ({ m, detail: undefined })), more: page.more };
    }
  }

  private listedItems(conversationId: string, items: unknown[]): ListedItem[] {
    return items.map((item, position) => {
      const m = toListedMessage(item, position, conversationId);
      if (!detailed(item)) return { m, detail: undefined };
      try {
        return { m, detail: parseWire(messageDetailSchema, item, 'message') };
      } catch (e) {
        if (!(e instanceof ContractError)) throw e;
        return { m, detail: undefined, invalid: e };
      }
    });
  }

  /** A window that came with the conversation listing: no call for it, then the rest of the ids. */
  private async *fromWindow(
    conversationId: string,
    window: NonNullable<ListedConversation['window']>,
  ): AsyncGenerator<ListedItemPage> {
    const items = this.listedItems(conversationId, window.items);
    const links = { next: window.next === undefined ? undefined : new URL(window.next), after: window.after };
    const more =
      window.next !== undefined ||
      this.api.continuesFullPage({ ...links, items: items.length, limit: this.windowSize });
    yield { items, more };
    if (more) yield* this.fromIds(conversationId, items.length, window);
  }

  /** The ids after a window, 100 a call, positions continuing from `position`. */
  private async *fromIds(
    conversationId: string,
    position: number,
    from: MessageListContinuation,
  ): AsyncGenerator<ListedItemPage> {
    for await (const page of this.api.messageIds(conversationId, from)) {
      yield {
        items: page.items.map((item) => ({
          m: toListedMessage(item, position++, conversationId),
          detail: undefined,
        })),
        more: page.more,
      };
    }
  }

  private fallBack(reason: string): void {
    if (this.current === 'per-message') return;
    this.current = 'per-message';
    this.fallbackReason = reason;
    this.logger.warn(`hydration falls back to one call per message for this run: ${reason}`);
  }
}
