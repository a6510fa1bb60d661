import {
  updatedMs,
  type Dataset,
  type SandboxConversation,
  type SandboxMessage,
  type SandboxUser,
} from './dataset.js';
import { parseFields, type FieldSpec } from './field-spec.js';
import { graphErrors, type GraphErrorReply } from './graph-errors.js';
import { decodeCursor, encodeCursor } from './meta-id.js';

/** What the router needs to know about one API request. */
export interface GraphRequest {
  version: string;
  segments: string[];
  query: URLSearchParams;
  token: string;
  /** Serve this list page empty but with a `next` link to the same position (a fault). */
  emptyPage: boolean;
}

export type Endpoint =
  'me' | 'conversations' | 'conversation' | 'messages' | 'message' | 'subscribed_apps' | 'unknown';

export interface RouteResult {
  endpoint: Endpoint;
  status: number;
  body?: unknown;
  error?: GraphErrorReply;
  /**
   * Every message whose details the request asked for, with its position in its conversation at request time
   * (one for a message-detail request; each listed message when an expansion asks for detail fields).
   */
  hydrations?: Array<{ messageId: string; conversationId: string; position: number }>;
  /** The effective list page size, for list endpoints. */
  pageLimit?: number;
}

export interface RouteOptions {
  publicUrl: string;
  defaultLimit: number;
  maxLimit: number;
  windowSize: number;
  deletedErrorCode: number;
  deletedErrorSubcode: number | undefined;
  /**
   * Detail fields of messages inside a `messages{…}` expansion (Meta: undocumented for Instagram, GUESS): `serve`
   * them for the 20 most recent, `refuse` the request, or `ignore` them (answer with id and created_time only).
   */
  expansion: 'serve' | 'refuse' | 'ignore';
  /** With `serve`: answer code 1 "reduce the amount of data" above this many detailed messages (0 = no limit). */
  expansionMaxDetailed: number;
  /**
   * The form of a message list's `paging.next` (GUESS: Meta does not document which one graph.instagram.com uses):
   * `edge` `/<conv>/messages?…&after=`, `node` `/<conv>?fields=messages{…}&after=`, `until`
   * `/<conv>/messages?…&until=&__paging_token=` (no cursors), or `cursors` (cursors only, never a `next`).
   */
  pagingLinks: PagingLinks;
  /** Whether the `/<conv>/messages` edge is served, or refused with code 100 as a nonexisting field (GUESS). */
  messagesEdge: 'serve' | 'refuse';
  /** Whether `user_id` narrows the conversation listing to one person, or is ignored (GUESS). */
  userIdFilter: 'honour' | 'ignore';
}

export const PAGING_LINKS = ['edge', 'node', 'until', 'cursors'] as const;
export type PagingLinks = (typeof PAGING_LINKS)[number];

/** Message fields that only a detail read (or an expansion that asks for them) returns. */
const DETAIL_FIELDS = new Set([
  'from',
  'to',
  'message',
  'attachments',
  'shares',
  'story',
  'reactions',
  'is_unsupported',
  'tags',
  'reply_to',
]);

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+0000');

interface Index {
  conversations: Map<string, SandboxConversation>;
  messages: Map<string, { conversation: SandboxConversation; message: SandboxMessage }>;
}

export class GraphRoutes {
  private index: Index = { conversations: new Map(), messages: new Map() };
  private emptyNonce = 0;

  constructor(
    private readonly data: Dataset,
    private readonly options: RouteOptions,
  ) {
    this.reindex();
  }

  reindex(): void {
    const conversations = new Map<string, SandboxConversation>();
    const messages = new Map<string, { conversation: SandboxConversation; message: SandboxMessage }>();
    for (const c of this.data.conversations) {
      conversations.set(c.id, c);
      for (const m of c.messages) messages.set(m.id, { conversation: c, message: m });
    }
    this.index = { conversations, messages };
  }

  route(req: GraphRequest): RouteResult {
    const [first, second, ...rest] = req.segments;
    const account = this.data.account;
    if (first === undefined) return { endpoint: 'unknown', status: 400, error: graphErrors.unknownPath('') };
    const isAccount = first === 'me' || first === account.userId;
    try {
      if (isAccount && second === undefined) return this.me(req);
      if (isAccount && second === 'conversations' && rest.length === 0) return this.conversations(req);
      const conversation = this.index.conversations.get(first);
      if (conversation && second === undefined) return this.conversationNode(req, conversation);
      if (conversation && second === 'messages' && rest.length === 0)
        return this.messagesEdge(req, conversation);
      const entry = this.index.messages.get(first);
      if (entry && second === undefined) return this.messageNode(req, entry.conversation, entry.message);
      if (second !== undefined && (isAccount || conversation || entry)) {
        return { endpoint: 'unknown', status: 400, error: graphErrors.unknownPath(second) };
      }
      return { endpoint: 'unknown', status: 400, error: graphErrors.objectNotFound(first) };
    } catch (e) {
      if (e instanceof RouteError) return { endpoint: e.endpoint, status: e.reply.status, error: e.reply };
      throw e;
    }
  }

  private fields(req: GraphRequest, endpoint: Endpoint, fallback: string): FieldSpec[] {
    try {
      return parseFields(req.query.get('fields') ?? fallback);
    } catch (e) {
      throw new RouteError(endpoint, graphErrors.invalidParameter((e as Error).message));
    }
  }

  private me(req: GraphRequest): RouteResult {
    const a = this.data.account;
    const values: Record<string, unknown> = { id: a.appScopedId, user_id: a.userId, username: a.username };
    const body: Record<string, unknown> = {};
    for (const f of this.fields(req, 'me', 'id')) {
      if (!(f.name in values)) throw new RouteError('me', graphErrors.nonexistingField(f.name, 'User'));
      body[f.name] = values[f.name];
    }
    return { endpoint: 'me', status: 200, body };
  }

  private conversations(req: GraphRequest): RouteResult {
    const platform = req.query.get('platform');
    if (platform !== null && platform.toLowerCase() !== 'instagram') {
      throw new RouteError(
        'conversations',
        graphErrors.invalidParameter('Param platform must be one of {INSTAGRAM, MESSENGER}'),
      );
    }
    const userId = req.query.get('user_id');
    let list = this.data.conversations.filter((c) => c.messages.length > 0);
    if (userId !== null && this.options.userIdFilter === 'honour')
      list = list.filter((c) => c.participant.id === userId);
    const fields = this.fields(req, 'conversations', userId === null ? 'id,updated_time' : 'id');
    const limit = this.limit(req.query.get('limit'));
    const page = this.page(list, (c) => c.id, req.query.get('after'), limit, req.emptyPage, 'conversations');
    const hydrations: NonNullable<RouteResult['hydrations']> = [];
    const data = page.items.map((c) => this.renderConversation(c, fields, req, 'conversations', hydrations));
    this.checkDetailBudget(hydrations, 'conversations');
    const path = req.segments.join('/');
    const carry: Record<string, string> = { platform: platform ?? '' };
    if (userId !== null) carry['user_id'] = userId;
    const fieldsParam = req.query.get('fields');
    if (fieldsParam !== null) carry['fields'] = fieldsParam;
    return {
      endpoint: 'conversations',
      status: 200,
      body: { data, ...this.paging(page, req, path, carry, limit) },
      pageLimit: limit,
      hydrations,
    };
  }

  private conversationNode(req: GraphRequest, c: SandboxConversation): RouteResult {
    const fields = this.fields(req, 'conversation', 'id');
    const hydrations: NonNullable<RouteResult['hydrations']> = [];
    // A node-form `next` link carries the nested list's `limit` and `after` as plain parameters.
    const body = this.renderConversation(c, fields, req, 'conversation', hydrations, {
      limit: req.query.get('limit'),
      after: req.query.get('after'),
    });
    this.checkDetailBudget(hydrations, 'conversation');
    return { endpoint: 'conversation', status: 200, body, hydrations };
  }

  private renderConversation(
    c: SandboxConversation,
    fields: FieldSpec[],
    req: GraphRequest,
    endpoint: Endpoint,
    hydrations: NonNullable<RouteResult['hydrations']>,
    nodeQuery: { limit: string | null; after: string | null } = { limit: null, after: null },
  ): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const f of fields) {
      switch (f.name) {
        case 'id':
          out['id'] = c.id;
          break;
        case 'updated_time':
          out['updated_time'] = this.time(updatedMs(c), req);
          break;
        case 'participants':
          if (c.malformed) {
            out['participants'] = { data: 'not-a-list' };
            break;
          }
          out['participants'] = {
            data: [
              user(c.participant),
              user({ id: this.data.account.userId, username: this.data.account.username }),
            ],
          };
          break;
        case 'messages': {
          const limit = this.limit(f.limit === undefined ? nodeQuery.limit : String(f.limit));
          const after = f.after ?? nodeQuery.after;
          const page = this.page(c.messages, (m) => m.id, after, limit, req.emptyPage, endpoint);
          const sub = f.subfields ?? [{ name: 'id' }, { name: 'created_time' }];
          // Graph leaves an empty edge out of the answer.
          if (page.items.length === 0 && !page.hasMore && after !== null) break;
          out['messages'] = {
            data: this.renderListedMessages(c, page.items, sub, req, endpoint, hydrations),
            ...this.messagePaging(page, req, c, sub, limit),
          };
          break;
        }
        default:
          throw new RouteError(endpoint, graphErrors.nonexistingField(f.name, 'Conversation'));
      }
    }
    return out;
  }

  private messagesEdge(req: GraphRequest, c: SandboxConversation): RouteResult {
    if (this.options.messagesEdge === 'refuse')
      throw new RouteError('messages', graphErrors.nonexistingField('messages', 'IGConversation'));
    const fields = this.fields(req, 'messages', 'id,created_time');
    const limit = this.limit(req.query.get('limit'));
    // A time-paged link (`until` + `__paging_token`) names the last message served in its token.
    const after = req.query.get('after') ?? req.query.get('__paging_token');
    const page = this.page(c.messages, (m) => m.id, after, limit, req.emptyPage, 'messages');
    const hydrations: NonNullable<RouteResult['hydrations']> = [];
    const data = this.renderListedMessages(c, page.items, fields, req, 'messages', hydrations);
    this.checkDetailBudget(hydrations, 'messages');
    return {
      endpoint: 'messages',
      status: 200,
      body: { data, ...this.messagePaging(page, req, c, fields, limit) },
      pageLimit: limit,
      hydrations,
    };
  }

  /** A message list's paging, its `next` in the form `pagingLinks` names. */
  private messagePaging(
    page: Page<SandboxMessage>,
    req: GraphRequest,
    c: SandboxConversation,
    sub: FieldSpec[],
    limit: number,
  ): { paging?: unknown } {
    const form = this.options.pagingLinks;
    const subParam = sub.map((s) => s.name).join(',');
    if (form === 'node') {
      return this.paging(page, req, c.id, { fields: `messages{${subParam}}` }, limit);
    }
    const paging = this.paging(page, req, `${c.id}/messages`, { fields: subParam }, limit);
    if (form === 'edge' || paging.paging === undefined) return paging;
    const { cursors, next } = paging.paging as { cursors: { after: string }; next?: string };
    if (form === 'cursors') return { paging: { cursors } };
    // Time-based paging: `until` (the last message's time, in seconds) and a paging token; no cursors.
    if (next === undefined) return { paging: {} };
    const url = new URL(next);
    url.searchParams.delete('after');
    const last = page.items[page.items.length - 1];
    url.searchParams.set('until', String(Math.floor((last?.createdMs ?? 0) / 1000)));
    url.searchParams.set('__paging_token', cursors.after);
    return { paging: { next: url.toString() } };
  }

  /**
   * Listed messages carry `id` and `created_time`; when the request asks for detail fields too, they are served
   * (per `expansion`) for messages among the 20 most recent only — an older or unsent one is listed without them.
   */
  private renderListedMessages(
    c: SandboxConversation,
    items: readonly SandboxMessage[],
    fields: FieldSpec[],
    req: GraphRequest,
    endpoint: Endpoint,
    hydrations: NonNullable<RouteResult['hydrations']>,
  ): Array<Record<string, unknown>> {
    const details = fields.filter((f) => DETAIL_FIELDS.has(f.name));
    if (details.length > 0 && this.options.expansion === 'refuse') {
      throw new RouteError(endpoint, graphErrors.nonexistingField(details[0]?.name ?? 'from', 'Message'));
    }
    const serve = details.length > 0 && this.options.expansion === 'serve';
    const first = items[0] === undefined ? 0 : c.messages.indexOf(items[0]);
    return items.map((m, i) => {
      const position = first + i;
      if (serve) hydrations.push({ messageId: m.id, conversationId: c.id, position });
      if (serve && position < this.options.windowSize && !m.unsent) return this.renderMessage(m, fields, req);
      const out: Record<string, unknown> = {};
      for (const f of fields) {
        if (f.name === 'id') out['id'] = m.id;
        else if (f.name === 'created_time') out['created_time'] = this.time(m.createdMs, req);
      }
      return out;
    });
  }

  /** Code 1 "reduce the amount of data" when one answer would carry more detailed messages than allowed. */
  private checkDetailBudget(hydrations: NonNullable<RouteResult['hydrations']>, endpoint: Endpoint): void {
    const max = this.options.expansionMaxDetailed;
    const detailed = hydrations.filter((h) => h.position < this.options.windowSize).length;
    if (max > 0 && detailed > max) throw new RouteError(endpoint, graphErrors.reduceData());
  }

  private messageNode(req: GraphRequest, c: SandboxConversation, m: SandboxMessage): RouteResult {
    const position = c.messages.indexOf(m);
    const hydrations = [{ messageId: m.id, conversationId: c.id, position }];
    const fields = this.fields(req, 'message', 'id,created_time');
    if (position >= this.options.windowSize || m.unsent) {
      const reply = graphErrors.messageDeleted(
        this.options.deletedErrorCode,
        this.options.deletedErrorSubcode,
      );
      return { endpoint: 'message', status: reply.status, error: reply, hydrations };
    }
    return { endpoint: 'message', status: 200, body: this.renderMessage(m, fields, req), hydrations };
  }

  /** A message's requested fields, details included. */
  private renderMessage(m: SandboxMessage, fields: FieldSpec[], req: GraphRequest): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const f of fields) {
      switch (f.name) {
        case 'id':
          out['id'] = m.id;
          break;
        case 'created_time':
          out['created_time'] = this.time(m.createdMs, req);
          break;
        case 'from':
          out['from'] = m.malformed ? 'not-an-object' : user(m.from);
          break;
        case 'to':
          out['to'] = { data: [user(m.to)] };
          break;
        case 'message':
          out['message'] = m.text;
          break;
        case 'attachments':
          if (m.attachments) out['attachments'] = m.attachments;
          break;
        case 'shares':
          if (m.shares) out['shares'] = m.shares;
          break;
        case 'story':
          if (m.story) out['story'] = m.story;
          break;
        case 'reactions':
          if (m.reactions)
            out['reactions'] = { data: m.reactions.data.map((r) => ({ ...r, users: r.users.map(user) })) };
          break;
        case 'is_unsupported':
          if (m.isUnsupported) out['is_unsupported'] = true;
          break;
        case 'tags':
        case 'reply_to':
          break;
        default:
          throw new RouteError('message', graphErrors.nonexistingField(f.name, 'Message'));
      }
    }
    return out;
  }

  private time(ms: number, req: GraphRequest): string | number {
    return req.query.get('date_format') === 'U' ? Math.floor(ms / 1000) : iso(ms);
  }

  private limit(raw: string | null): number {
    if (raw === null) return this.options.defaultLimit;
    const n = Number.parseInt(raw, 10);
    if (!Number.isFinite(n) || n <= 0) return this.options.defaultLimit;
    return Math.min(n, this.options.maxLimit);
  }

  private page<T>(
    list: readonly T[],
    key: (item: T) => string,
    after: string | null,
    limit: number,
    empty: boolean,
    endpoint: Endpoint,
  ): Page<T> {
    let start = 0;
    let startKey = '^';
    if (after !== null) {
      const k = decodeCursor(after);
      if (k === undefined) throw new RouteError(endpoint, graphErrors.invalidParameter('Invalid cursor'));
      if (k !== '^') {
        const i = list.findIndex((item) => key(item) === k);
        if (i < 0) {
          throw new RouteError(
            endpoint,
            graphErrors.invalidParameter(
              'The After Cursor specified exceeds the max limit supported by this endpoint',
            ),
          );
        }
        start = i + 1;
      }
      startKey = k;
    }
    if (empty && start < list.length) {
      return { items: [], before: startKey, after: startKey, hasMore: true, nonce: ++this.emptyNonce };
    }
    const items = list.slice(start, start + limit);
    const first = items[0];
    const last = items[items.length - 1];
    return {
      items,
      before: first === undefined ? startKey : key(first),
      after: last === undefined ? startKey : key(last),
      hasMore: start + limit < list.length,
      nonce: 0,
    };
  }

  private paging<T>(
    page: Page<T>,
    req: GraphRequest,
    path: string,
    carry: Record<string, string>,
    limit: number,
  ): { paging?: { cursors: { before: string; after: string }; next?: string } } {
    if (page.items.length === 0 && !page.hasMore) return {};
    const after = encodeCursor(page.after, page.nonce);
    const paging: { cursors: { before: string; after: string }; next?: string } = {
      cursors: { before: encodeCursor(page.before), after },
    };
    if (page.hasMore) {
      // Meta's next links are absolute and embed the access token (contract §2).
      const q = new URLSearchParams({ access_token: req.token });
      for (const [k, v] of Object.entries(carry)) if (v !== '') q.set(k, v);
      q.set('limit', String(limit));
      q.set('after', after);
      paging.next = `${this.options.publicUrl}/${req.version}/${path}?${q.toString()}`;
    }
    return { paging };
  }
}

interface Page<T> {
  items: T[];
  before: string;
  after: string;
  hasMore: boolean;
  nonce: number;
}

class RouteError extends Error {
  constructor(
    readonly endpoint: Endpoint,
    readonly reply: GraphErrorReply,
  ) {
    super(reply.error.message);
  }
}

function user(u: SandboxUser): Record<string, string> {
  return u.username === undefined ? { id: u.id } : { username: u.username, id: u.id };
}
