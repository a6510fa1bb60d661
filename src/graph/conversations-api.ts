import type { GraphClient, ListPage } from './client.js';
import { AccountNotFoundError, GraphRequestError } from './errors.js';
import { stripAccessToken } from './redact.js';
import { ContractError, messageDetailSchema, parseWire } from './wire-shapes.js';

/** Wire shapes of the Conversations API (contract §1), as loosely as the client needs them. */
export interface GraphUser {
  id?: string;
  username?: string;
}

export interface ConversationItem {
  id: string;
  updated_time?: string | number;
  participants?: { data?: GraphUser[] };
}

export interface MessageListItem {
  id: string;
  created_time?: string | number;
}

export interface MessageDetail {
  id: string;
  created_time?: string | number;
  from?: GraphUser;
  to?: { data?: GraphUser[] };
  message?: string;
  attachments?: unknown;
  shares?: unknown;
  story?: unknown;
  reactions?: unknown;
  is_unsupported?: boolean;
}

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

/** The Conversations API on top of the generic client: the four calls the export makes. */
export class ConversationsApi {
  constructor(
    private readonly client: GraphClient,
    private readonly pageSize: number,
  ) {}

  /**
   * The Instagram professional account id (`user_id`, the id in messages' from/to), not the app-scoped `id`.
   * One call.
   */
  async resolveAccount(account: string): Promise<{ id: string; username: string | undefined }> {
    const body = (await this.client
      .get('account', this.client.url(account, { fields: 'user_id,username' }))
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

  /** Message ids and creation times of one conversation, newest first, every page. */
  messageIds(conversationId: string): AsyncGenerator<ListPage> {
    return this.client.paginate(
      'messages',
      (limit) => this.client.url(conversationId, { fields: `messages.limit(${limit}){id,created_time}` }),
      this.pageSize,
      // The first page is nested under `messages`; `next` links lead to the plain edge.
      (body) => {
        const b = body as { messages?: unknown; data?: unknown };
        return b.data !== undefined ? b : (b.messages ?? { data: [] });
      },
    );
  }

  /** The rest of a conversation's message ids after its window, with ids and times only, largest pages. */
  messageIdsAfter(next: string): AsyncGenerator<ListPage> {
    return this.client.paginateNext('messages', next, this.pageSize, (u) =>
      u.searchParams.set('fields', 'id,created_time'),
    );
  }

  /** Details of one message; a deleted/unavailable answer or a give-up is an outcome, not an exception. */
  async message(messageId: string): Promise<HydrationOutcome> {
    try {
      const body = await this.client.get('message', this.client.url(messageId, { fields: MESSAGE_FIELDS }));
      return { status: 'hydrated', detail: parseWire(messageDetailSchema, body, 'message') as MessageDetail };
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
