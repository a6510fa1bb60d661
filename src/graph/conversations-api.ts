import type { FollowPage, GraphClient, ListPage, PageLinks } from './client.js';
import { AccountNotFoundError, GraphRequestError } from './errors.js';
import {
  fullPageWithoutNext,
  idsPageFromLink,
  nestedIdsField,
  type MessageListContinuation,
} from './message-list.js';
import { stripAccessToken } from './redact.js';
import type { z } from 'zod';
import { ContractError, messageDetailSchema, parseWire } from './wire-shapes.js';

/** A message's details as the API gives them: the type is the wire schema's (wire-shapes.ts), defined once. */
export type MessageDetail = z.infer<typeof messageDetailSchema>;

export const MESSAGE_FIELDS =
  'id,created_time,from,to,message,attachments,shares,story,reactions,is_unsupported';

/**
 * A `paging.next` link as data the pipeline may hold: Meta embeds the access token in it, so it is dropped here (the
 * client sends the token in the Authorization header) and nothing downstream can print or write it.
 */
export function nextWithoutToken(next: unknown): string | undefined {
  if (typeof next !== 'string' || next === '') return undefined;
  try {
    return stripAccessToken(new URL(next)).toString();
  } catch {
    return next.replace(/access_token=[^&]*/gi, '');
  }
}

export type HydrationOutcome =
  | { status: 'hydrated'; detail: MessageDetail }
  | { status: 'unavailable' | 'failed'; error: GraphRequestError | ContractError };

/** How message lists continued in this run: by the links Meta gave, or by cursor after a link failed. */
export interface MessagePagingReport {
  continuation: 'links' | 'cursors';
  /** Why the run switched to cursors (once), if it did. */
  fallback: { reason: string } | null;
}

/** The selected page of a message list: the edge's answer itself, or the `messages` of a node's (absent when empty). */
function messagesOf(body: unknown): unknown {
  const b = body as { messages?: unknown; data?: unknown } | null;
  return b?.data !== undefined ? b : (b?.messages ?? { data: [] });
}

/** A continuation call refused as a request (an unknown field or path), not as a failure of the moment. */
function refused(e: unknown): e is GraphRequestError {
  const code = e instanceof GraphRequestError ? e.graphError?.code : undefined;
  return e instanceof GraphRequestError && e.kind === 'fatal' && (code === 100 || code === 2500);
}

/** The Conversations API on top of the generic client: the four calls the export makes. */
export class ConversationsApi {
  private fallbackReason: string | undefined;
  /** Whether message lists of this run carry `next` links: seen given, seen left out (cursors only), or not yet known. */
  private nextLinks: 'unknown' | 'given' | 'omitted' = 'unknown';

  constructor(
    private readonly client: GraphClient,
    private readonly pageSize: number,
    /** Told once, when message lists switch to cursor continuation for the rest of the run. */
    private readonly onPagingFallback: (reason: string) => void = () => undefined,
  ) {}

  get paging(): MessagePagingReport {
    return {
      continuation: this.fallbackReason === undefined ? 'links' : 'cursors',
      fallback: this.fallbackReason === undefined ? null : { reason: this.fallbackReason },
    };
  }

  /**
   * The Instagram professional account id (`user_id`, the id in messages' from/to), not the app-scoped `id`.
   * One call.
   */
  async resolveAccount(account: string): Promise<{ id: string; username: string | undefined }> {
    const body = (await this.client
      .get('account', this.client.url(account, { fields: 'user_id,username' }), { firstContact: true })
      .catch((e: unknown) => {
        const notFound =
          e instanceof GraphRequestError &&
          account !== 'me' &&
          (e.kind === 'not_found_or_throttled' || (e.kind === 'fatal' && e.graphError?.code === 100));
        throw notFound ? new AccountNotFoundError(account, e) : e;
      })) as {
      user_id?: string | number;
      id?: string;
      username?: string;
    };
    const id = body.user_id ?? (account === 'me' ? undefined : account);
    if (id === undefined)
      throw new Error(`GET /${account} returned no user_id; is this an Instagram professional account?`);
    return { id: String(id), username: body.username };
  }

  /**
   * Conversations, newest `updated_time` first, with participants; `userId` narrows to one person. With
   * `windowSize`, each also carries its most recent messages with their details (field expansion, nested).
   */
  conversations(account: string, userId?: string, windowSize?: number): AsyncGenerator<ListPage> {
    const window = windowSize === undefined ? '' : `,messages.limit(${windowSize}){${MESSAGE_FIELDS}}`;
    return this.client.paginate(
      'conversations',
      (limit) =>
        this.client.url(`${account}/conversations`, {
          platform: 'instagram',
          fields: `id,updated_time,participants${window}`,
          limit: String(limit),
          ...(userId === undefined ? {} : { user_id: userId }),
        }),
      this.pageSize,
    );
  }

  /**
   * Message ids and creation times of one conversation, newest first, every page: from the start, or from where an
   * earlier page (a window the listing carried) left off. Links are followed in whatever form they come; when one
   * is refused, the walk goes on by cursor through the documented field expansion, and so do later ones.
   */
  async *messageIds(conversationId: string, from?: MessageListContinuation): AsyncGenerator<ListPage> {
    const byCursor =
      (after: string | undefined) =>
      (limit: number): URL =>
        this.client.url(conversationId, { fields: nestedIdsField(limit, after) });
    const next = from?.next === undefined ? undefined : this.client.followable(from.next);
    let after = from?.after;
    if (from !== undefined && next === undefined && after === undefined) return;
    /** The request in flight follows a link (only a link's refusal is worth a fallback). */
    let viaLink = next !== undefined;
    /** The request in flight continues a full page that had no `next` (its answer says whether Meta omits them). */
    let probing = from !== undefined && next === undefined;
    const follow =
      (byLinks: boolean): FollowPage =>
      (page) => {
        if (probing) this.learnOmission(page.items);
        this.observeMessageList(page.next !== undefined);
        probing = this.continuesFullPage(page);
        viaLink = page.next !== undefined && (byLinks || page.after === undefined);
        if (viaLink) return (limit) => idsPageFromLink(page.next!, limit);
        return page.after !== undefined && (page.next !== undefined || probing)
          ? byCursor(page.after)
          : undefined;
      };
    const byLinks = this.fallbackReason === undefined;
    const first =
      next === undefined || (!byLinks && after !== undefined)
        ? byCursor(after)
        : (limit: number) => idsPageFromLink(next, limit);
    try {
      for await (const page of this.client.paginate(
        'messages',
        first,
        this.pageSize,
        messagesOf,
        follow(byLinks),
      )) {
        after = page.after ?? after;
        yield page;
      }
      return;
    } catch (e) {
      if (!byLinks || !viaLink || !refused(e) || after === undefined) throw e;
      this.fallBack(`a message list's next link was refused (${e.classification.reason})`);
    }
    probing = false;
    yield* this.client.paginate('messages', byCursor(after), this.pageSize, messagesOf, follow(false));
  }

  /**
   * Whether a page that ended without `next` goes on by cursor. Meta's rule is that a missing `next` ends a list,
   * but a server that leaves `next` out of message lists would end every conversation at its first page; so until a
   * message list of this run has shown a `next` link, a full page without one is continued (one call), and if that
   * call finds more, the run continues full pages by cursor from then on.
   */
  continuesFullPage(page: PageLinks): boolean {
    return this.nextLinks !== 'given' && fullPageWithoutNext(page);
  }

  /** Each message list page (windows of the conversation listing included) tells whether Meta gives `next` links. */
  observeMessageList(hasNext: boolean): void {
    if (hasNext && this.nextLinks === 'unknown') this.nextLinks = 'given';
  }

  private learnOmission(items: number): void {
    if (items === 0 || this.nextLinks !== 'unknown') return;
    this.nextLinks = 'omitted';
    this.fallBack('message lists come with cursors but no next link');
  }

  private fallBack(reason: string): void {
    if (this.fallbackReason !== undefined) return;
    this.fallbackReason = reason;
    this.onPagingFallback(reason);
  }

  /** Details of one message; a deleted/unavailable answer or a give-up is an outcome, not an exception. */
  async message(messageId: string): Promise<HydrationOutcome> {
    try {
      const body = await this.client.get('message', this.client.url(messageId, { fields: MESSAGE_FIELDS }));
      return { status: 'hydrated', detail: parseWire(messageDetailSchema, body, 'message') };
    } catch (e) {
      if (e instanceof ContractError) return { status: 'failed', error: e };
      if (!(e instanceof GraphRequestError)) throw e;
      // Auth failures are GraphAuthError and stop the run; everything else is this message's outcome.
      return {
        status: e.kind === 'gone' || e.kind === 'not_found_or_throttled' ? 'unavailable' : 'failed',
        error: e,
      };
    }
  }
}
