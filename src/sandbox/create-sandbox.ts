import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { createDataset, sortConversations, type Dataset, type SandboxMessage } from './dataset.js';
import { FaultPlan, type FaultKind, type FaultOptions } from './faults.js';
import { graphErrors, type GraphErrorReply } from './graph-errors.js';
import { GraphRoutes, type Endpoint, type PagingLinks, type RouteResult } from './graph-routes.js';
import {
  CDN_PATH,
  DEFAULT_MEDIA_CDN,
  localiseMedia,
  MediaCdn,
  type MediaCdnOptions,
  type MediaRequest,
} from './media-cdn.js';
import { createPrng, deriveSeed } from './prng.js';
import { RateMeter, type RateLimitOptions } from './rate-meter.js';
import { WebhookSender, type WebhookSenderOptions } from './webhook-sender.js';

/**
 * The Graph API sandbox: an HTTP server that behaves like graph.instagram.com's Conversations API as
 * src/graph/meta-api-facts.md describes it. It shares no code with the client on purpose.
 */
export interface SandboxOptions {
  port: number;
  host: string;
  seed: number;
  conversations: number;
  messageCounts?: readonly number[] | undefined;
  maxMessagesPerConversation: number;
  endTimeMs: number;
  unsentRate: number;
  /** The account's username. */
  username: string;
  /**
   * The address clients reach the sandbox at, used in `paging.next` links; defaults to its own. A multi-account
   * sandbox sets it to its front server's, so that paging stays on the host the client was given.
   */
  publicUrl?: string | undefined;
  /** The access token the sandbox starts with (refreshing it adds more). */
  token: string;
  /** When `token` was issued: a refresh needs a token at least 24 hours old (Meta's rule). */
  tokenIssuedMs: number;
  defaultLimit: number;
  maxLimit: number;
  /** Only this many most recent messages of a conversation answer with details. */
  windowSize: number;
  deletedErrorCode: number;
  deletedErrorSubcode?: number | undefined;
  /** Detail fields inside a messages expansion: served for the 20 most recent, refused, or ignored (GUESS). */
  expansion: 'serve' | 'refuse' | 'ignore';
  /** Code 1 "reduce the amount of data" above this many detailed messages in one answer (0 = no limit). */
  expansionMaxDetailed: number;
  /** The form of message lists' `paging.next` links: edge, node, until or cursors only (GUESS, see graph-routes). */
  pagingLinks: PagingLinks;
  /** Whether `/<conv>/messages` is served or refused with code 100 (GUESS). */
  messagesEdge: 'serve' | 'refuse';
  /** Whether `user_id` on the conversation listing is honoured or ignored (GUESS). */
  userIdFilter: 'honour' | 'ignore';
  rateLimit: RateLimitOptions;
  faults: FaultOptions;
  /** Share of conversations listed, and of messages detailed, with a field of the wrong shape (0 = none). */
  malformed: { conversationRate: number; detailRate: number };
  /** The media CDN the messages' attachment, share and story links point to. */
  media: MediaCdnOptions;
  /** Deliver a signed `messages` webhook to this subscriber for every message added (Meta's real-time path). */
  webhook?: WebhookSenderOptions | undefined;
  /** Add `count` messages to a seeded-random conversation after every `everyRequests` API requests. */
  autoAdd?: { everyRequests: number; count: number } | undefined;
  usageHeaders: boolean;
  /** Clock for rate limiting, logs and new messages (inject a virtual one in tests). */
  now: () => number;
  /** Called with every logged request as it arrives (tests use it to interrupt a run after N calls). */
  onRequest?: ((entry: RequestLogEntry) => void) | undefined;
}

export const DEFAULT_SANDBOX_OPTIONS: SandboxOptions = {
  port: 0,
  host: '127.0.0.1',
  seed: 1,
  conversations: 50,
  maxMessagesPerConversation: 3000,
  endTimeMs: Date.UTC(2026, 10, 20, 12, 0, 0),
  unsentRate: 0.01,
  username: 'acme.shop',
  token: 'sandbox-token',
  tokenIssuedMs: Date.UTC(2026, 9, 1),
  defaultLimit: 25,
  maxLimit: 100,
  windowSize: 20,
  deletedErrorCode: 100,
  expansion: 'serve',
  expansionMaxDetailed: 0,
  pagingLinks: 'edge',
  messagesEdge: 'serve',
  userIdFilter: 'honour',
  rateLimit: {
    callsPerSecond: 2,
    errorCode: 80002,
    blockMs: 60_000,
    usageWindowMs: 3_600_000,
    usageQuota: 0,
  },
  faults: { rates: {}, slowMs: 2_000, throttleCode: 80002 },
  media: DEFAULT_MEDIA_CDN,
  malformed: { conversationRate: 0, detailRate: 0 },
  usageHeaders: true,
  now: () => Date.now(),
};

export interface RequestLogEntry {
  seq: number;
  /** Sandbox clock at arrival. */
  t: number;
  method: string;
  /** Path and query, with any access_token removed. */
  path: string;
  endpoint: Endpoint | 'control' | 'refresh';
  status: number;
  code?: number | undefined;
  fault?: FaultKind | 'token_expired' | 'reduce_data' | undefined;
  throttled: boolean;
  duringBlock: boolean;
  /** The `limit` of a list request, after clamping. */
  pageLimit?: number | undefined;
  /** Where the client put the access token. */
  tokenIn?: 'header' | 'query' | 'none' | undefined;
}

export interface SandboxStats {
  requests: RequestLogEntry[];
  byEndpoint: Record<string, number>;
  faults: Record<string, number>;
  throttled: number;
  /** Calls that arrived while the account was blocked by an earlier throttle. */
  callsDuringBlock: number;
  /** Every message whose details were requested, with its position in its conversation at that moment. */
  hydrations: Array<{ messageId: string; conversationId: string; position: number }>;
  /** Requests to the media CDN (not API calls: they are not rate limited or counted in `requests`). */
  media: MediaRequest[];
}

export interface Sandbox {
  url: string;
  data: Dataset;
  options: SandboxOptions;
  stats: SandboxStats;
  /** Every token the sandbox accepts, with when it was issued (the first one, then each refreshed one). */
  tokens: Map<string, number>;
  /** The webhook deliveries made (when `webhook` is set); `flush()` waits for those in flight. */
  webhooks: WebhookSender | undefined;
  /** Adds `count` new messages at the top of a conversation ("time travel"); returns them newest first. */
  addMessages(conversationId: string, count: number): SandboxMessage[];
  resetStats(): void;
  close(): Promise<void>;
}

export type SandboxOverrides = Partial<Omit<SandboxOptions, 'rateLimit' | 'faults' | 'media'>> & {
  rateLimit?: Partial<RateLimitOptions>;
  faults?: Partial<FaultOptions>;
  media?: Partial<MediaCdnOptions>;
};

export function resolveSandboxOptions(overrides: SandboxOverrides = {}): SandboxOptions {
  const { rateLimit, faults, media, ...rest } = overrides;
  const defined = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
  return {
    ...DEFAULT_SANDBOX_OPTIONS,
    ...defined,
    rateLimit: { ...DEFAULT_SANDBOX_OPTIONS.rateLimit, ...rateLimit },
    faults: { ...DEFAULT_SANDBOX_OPTIONS.faults, ...faults },
    media: { ...DEFAULT_SANDBOX_OPTIONS.media, ...media },
  };
}

function emptyStats(): SandboxStats {
  return {
    requests: [],
    byEndpoint: {},
    faults: {},
    throttled: 0,
    callsDuringBlock: 0,
    hydrations: [],
    media: [],
  };
}

export async function createSandbox(overrides: SandboxOverrides = {}): Promise<Sandbox> {
  const options = resolveSandboxOptions(overrides);
  const data = createDataset(options);
  const malformedPrng = createPrng(deriveSeed(options.seed, 'malformed'));
  for (const c of data.conversations) {
    if (malformedPrng.next() < options.malformed.conversationRate) c.malformed = true;
    for (const m of c.messages) if (malformedPrng.next() < options.malformed.detailRate) m.malformed = true;
  }
  const meter = new RateMeter(options.rateLimit);
  const faults = new FaultPlan(options.seed, options.faults);
  const autoAddPrng = createPrng(deriveSeed(options.seed, 'auto-add'));
  let stats = emptyStats();
  let apiRequests = 0;
  let routes: GraphRoutes | undefined;
  let cdn = new MediaCdn(options.seed, options.media);
  const tokens = new Map<string, number>([[options.token, options.tokenIssuedMs]]);
  const webhooks = options.webhook ? new WebhookSender(options.webhook, options.seed) : undefined;
  /** The webhook fields the app is subscribed to (`/me/subscribed_apps`). */
  let subscribedFields: string[] = [];

  const addMessages = (conversationId: string, count: number): SandboxMessage[] => {
    const c = data.conversations.find((x) => x.id === conversationId);
    if (!c) throw new Error(`no conversation ${conversationId}`);
    const added: SandboxMessage[] = [];
    for (let i = 0; i < count; i++) {
      const newest = c.messages[0]?.createdMs ?? 0;
      const t = Math.max(Math.floor(options.now() / 1000) * 1000, newest + 1000);
      const m = data.newMessage(c, t);
      localiseMedia(m, sandboxUrl());
      c.messages.unshift(m);
      added.unshift(m);
    }
    sortConversations(data.conversations);
    routes?.reindex();
    // Oldest first, as they happened.
    webhooks?.messagesAdded(
      data.account.userId,
      [...added].reverse().map((m) => ({
        id: m.id,
        createdMs: m.createdMs,
        from: { id: m.from.id },
        to: { id: m.to.id },
        text: m.text,
        isEcho: m.from.id === data.account.userId,
      })),
    );
    return added;
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      res.statusCode = 500;
      res.end(String(e));
    });
  });

  const log = (entry: Omit<RequestLogEntry, 'seq'>): void => {
    const logged = { seq: stats.requests.length, ...entry };
    stats.requests.push(logged);
    options.onRequest?.(logged);
    stats.byEndpoint[entry.endpoint] = (stats.byEndpoint[entry.endpoint] ?? 0) + 1;
    if (entry.fault) stats.faults[entry.fault] = (stats.faults[entry.fault] ?? 0) + 1;
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const t = options.now();
    if (url.pathname === '/health') return sendJson(res, 200, { ok: true });
    if (url.pathname === '/refresh_access_token') return refresh(req, res, url, t);
    if (url.pathname.startsWith(CDN_PATH)) {
      cdn.serve(req, res, url);
      stats.media = cdn.requests;
      return;
    }
    if (url.pathname.startsWith('/__sandbox/')) return control(req, res, url, t);

    const segments = url.pathname.split('/').filter((s) => s !== '');
    const version = segments.shift() ?? '';
    const loggedQuery = new URLSearchParams(url.searchParams);
    loggedQuery.delete('access_token');
    const q = loggedQuery.toString();
    const tokenIn: RequestLogEntry['tokenIn'] = req.headers.authorization
      ? 'header'
      : url.searchParams.has('access_token')
        ? 'query'
        : 'none';
    const base = {
      t,
      tokenIn,
      method: req.method ?? 'GET',
      path: `${url.pathname}${q === '' ? '' : `?${q}`}`,
      throttled: false,
      duringBlock: false,
    };
    const subscription = segments.join('/') === 'me/subscribed_apps';
    if (!/^v\d+\.\d+$/.test(version) || (req.method !== 'GET' && !(subscription && req.method === 'POST'))) {
      const reply = graphErrors.unknownPath(version);
      log({ ...base, endpoint: 'unknown', status: reply.status, code: reply.error.code });
      return sendError(res, reply, undefined);
    }
    apiRequests++;
    if (options.autoAdd && apiRequests % options.autoAdd.everyRequests === 0) {
      const target = autoAddPrng.pick(data.conversations);
      addMessages(target.id, options.autoAdd.count);
    }

    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice(7) : (url.searchParams.get('access_token') ?? '');
    const usage = (): Record<string, string> => usageHeaders(meter, data.account.userId, options, t);
    if (token === '') {
      const reply = graphErrors.missingToken();
      log({ ...base, endpoint: 'unknown', status: reply.status, code: reply.error.code });
      return sendError(res, reply, undefined);
    }
    if (!tokens.has(token)) {
      const reply = graphErrors.invalidToken();
      log({ ...base, endpoint: 'unknown', status: reply.status, code: reply.error.code });
      return sendError(res, reply, undefined);
    }

    const verdict = meter.record(t);
    if (verdict.duringBlock) stats.callsDuringBlock++;
    if (verdict.throttled) {
      stats.throttled++;
      const reply = graphErrors.throttled(options.rateLimit.errorCode);
      log({
        ...base,
        endpoint: 'unknown',
        status: reply.status,
        code: reply.error.code,
        throttled: true,
        duringBlock: verdict.duringBlock,
      });
      return sendError(res, reply, usage());
    }

    const expiresAfter = options.faults.tokenExpiresAfter;
    if (expiresAfter !== undefined && apiRequests > expiresAfter) {
      const reply = graphErrors.tokenExpired(
        new Date(options.endTimeMs),
        new Date(Math.max(t, options.endTimeMs)),
      );
      log({
        ...base,
        endpoint: 'unknown',
        status: reply.status,
        code: reply.error.code,
        fault: 'token_expired',
      });
      return sendError(res, reply, usage());
    }

    const fault = apiRequests > (options.faults.startAfterRequests ?? 0) ? faults.draw() : undefined;
    if (fault === 'throttle') {
      stats.throttled++;
      meter.block(t);
      const reply = graphErrors.throttled(options.faults.throttleCode);
      log({
        ...base,
        endpoint: 'unknown',
        status: reply.status,
        code: reply.error.code,
        fault,
        throttled: true,
      });
      return sendError(res, reply, usage());
    }
    if (fault === 'not_found_throttle') {
      const reply = graphErrors.objectNotFound(segments[0] ?? '');
      log({ ...base, endpoint: 'unknown', status: reply.status, code: reply.error.code, fault });
      return sendError(res, reply, usage());
    }
    if (fault === 'transient_500') {
      const reply = graphErrors.transient();
      log({ ...base, endpoint: 'unknown', status: reply.status, code: reply.error.code, fault });
      return sendError(res, reply, usage());
    }
    if (fault === 'reset_before_headers') {
      log({ ...base, endpoint: 'unknown', status: 0, fault });
      req.socket.resetAndDestroy();
      return;
    }
    if (fault === 'html_502') {
      log({ ...base, endpoint: 'unknown', status: 502, fault });
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end(
        '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>',
      );
      return;
    }

    if (subscription) {
      // `POST /me/subscribed_apps?subscribed_fields=…` subscribes the app; `GET` lists the fields (GUESS: shape).
      if (req.method === 'POST') {
        const fields = (url.searchParams.get('subscribed_fields') ?? '').split(',').filter((f) => f !== '');
        if (fields.length === 0) {
          const reply = graphErrors.invalidParameter('subscribed_fields is required');
          log({ ...base, endpoint: 'subscribed_apps', status: reply.status, code: reply.error.code });
          return sendError(res, reply, usage());
        }
        subscribedFields = [...new Set([...subscribedFields, ...fields])];
        log({ ...base, endpoint: 'subscribed_apps', status: 200 });
        return sendJson(res, 200, { success: true }, usage());
      }
      log({ ...base, endpoint: 'subscribed_apps', status: 200 });
      const data = subscribedFields.length === 0 ? [] : [{ subscribed_fields: subscribedFields }];
      return sendJson(res, 200, { data }, usage());
    }

    routes ??= new GraphRoutes(data, {
      publicUrl: options.publicUrl ?? sandboxUrl(),
      defaultLimit: options.defaultLimit,
      maxLimit: options.maxLimit,
      windowSize: options.windowSize,
      deletedErrorCode: options.deletedErrorCode,
      deletedErrorSubcode: options.deletedErrorSubcode,
      expansion: options.expansion,
      expansionMaxDetailed: options.expansionMaxDetailed,
      pagingLinks: options.pagingLinks,
      messagesEdge: options.messagesEdge,
      userIdFilter: options.userIdFilter,
    });
    const result: RouteResult = routes.route({
      version,
      segments,
      query: url.searchParams,
      token,
      emptyPage: fault === 'empty_page_with_next',
    });
    const reduce = options.faults.reduceDataAboveLimit;
    if (reduce !== undefined && result.pageLimit !== undefined && result.pageLimit > reduce) {
      const reply = graphErrors.reduceData();
      log({
        ...base,
        endpoint: result.endpoint,
        status: reply.status,
        code: reply.error.code,
        fault: 'reduce_data',
        pageLimit: result.pageLimit,
      });
      return sendError(res, reply, usage());
    }
    if (result.hydrations) stats.hydrations.push(...result.hydrations);
    log({
      ...base,
      endpoint: result.endpoint,
      status: result.status,
      code: result.error?.error.code,
      fault: appliedFault(fault, result),
      pageLimit: result.pageLimit,
    });
    if (fault === 'slow') await new Promise((r) => setTimeout(r, options.faults.slowMs));
    if (result.error) return sendError(res, result.error, usage());
    // Truncation and socket faults only shape success bodies (appliedFault counts them only then).
    const body = JSON.stringify(result.body);
    if (fault === 'truncated_200') {
      res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8', ...usage() });
      res.end(body.slice(0, Math.floor(body.length / 2)));
      return;
    }
    if (fault === 'socket_destroyed') {
      res.writeHead(200, {
        'content-type': 'application/json; charset=UTF-8',
        'content-length': String(Buffer.byteLength(body)),
        ...usage(),
      });
      res.write(body.slice(0, Math.floor(body.length / 3)));
      res.socket?.destroy();
      return;
    }
    if (fault === 'cut_mid_body' || fault === 'stall_after_headers') {
      res.writeHead(200, {
        'content-type': 'application/json; charset=UTF-8',
        'content-length': String(Buffer.byteLength(body)),
        ...usage(),
      });
      const half = body.slice(0, Math.floor(body.length / 2));
      if (fault === 'cut_mid_body') {
        // Flushed first, so the client really receives the headers and part of the body before the cut.
        res.write(half, () => setTimeout(() => res.socket?.destroy(), 5));
        return;
      }
      res.write(half);
      await new Promise((r) => setTimeout(r, options.faults.slowMs));
      if (!res.destroyed) res.end(body.slice(half.length));
      return;
    }
    sendJson(res, 200, result.body, usage());
  }

  /**
   * `GET /refresh_access_token?grant_type=ig_refresh_token` (unversioned, Meta's Instagram token refresh): a token at
   * least 24 hours old gets a new one valid 60 days. The old one stays valid (GUESS). A too-young token answers
   * code 100 (GUESS: Meta's exact answer is not documented).
   */
  function refresh(req: IncomingMessage, res: ServerResponse, url: URL, t: number): void {
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice(7) : (url.searchParams.get('access_token') ?? '');
    const base = {
      t,
      method: req.method ?? 'GET',
      path: url.pathname,
      endpoint: 'refresh' as const,
      throttled: false,
      duringBlock: false,
      tokenIn: (auth
        ? 'header'
        : url.searchParams.has('access_token')
          ? 'query'
          : 'none') as RequestLogEntry['tokenIn'],
    };
    const issued = tokens.get(token);
    let reply: GraphErrorReply | undefined;
    if (url.searchParams.get('grant_type') !== 'ig_refresh_token')
      reply = graphErrors.invalidParameter('grant_type must be ig_refresh_token');
    else if (issued === undefined) reply = graphErrors.invalidToken();
    else if (t - issued < 24 * 3_600_000)
      reply = graphErrors.invalidParameter('The access token must be at least 24 hours old to be refreshed');
    if (reply) {
      log({ ...base, status: reply.status, code: reply.error.code });
      return sendError(res, reply, undefined);
    }
    const fresh = `${options.token}-refreshed-${tokens.size}-${randomBytes(6).toString('hex')}`;
    tokens.set(fresh, t);
    log({ ...base, status: 200 });
    sendJson(res, 200, { access_token: fresh, token_type: 'bearer', expires_in: 60 * 86_400 });
  }

  async function control(req: IncomingMessage, res: ServerResponse, url: URL, t: number): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    log({
      t,
      method: req.method ?? 'GET',
      path: url.pathname,
      endpoint: 'control',
      status: 200,
      throttled: false,
      duringBlock: false,
    });
    if (url.pathname === '/__sandbox/stats' && req.method === 'GET') {
      return sendJson(res, 200, { ...stats, requests: stats.requests.length });
    }
    if (url.pathname === '/__sandbox/add-messages' && req.method === 'POST') {
      const body = (raw === '' ? {} : JSON.parse(raw)) as { conversation_id?: string; count?: number };
      const target = body.conversation_id ?? data.conversations[0]?.id;
      if (target === undefined) return sendJson(res, 400, { error: 'no conversations' });
      try {
        const added = addMessages(target, body.count ?? 1);
        return sendJson(res, 200, { conversation_id: target, added: added.map((m) => m.id) });
      } catch (e) {
        return sendJson(res, 404, { error: (e as Error).message });
      }
    }
    return sendJson(res, 404, { error: `unknown control endpoint ${req.method ?? ''} ${url.pathname}` });
  }

  await new Promise<void>((resolve, reject) => {
    // A port in use is an error the caller reports, not an unhandled 'error' event.
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const sandboxUrl = (): string => {
    const address = server.address() as AddressInfo;
    return `http://${options.host}:${address.port}`;
  };
  for (const c of data.conversations) for (const m of c.messages) localiseMedia(m, sandboxUrl());

  return {
    url: sandboxUrl(),
    data,
    options,
    get stats() {
      return stats;
    },
    tokens,
    webhooks,
    addMessages,
    resetStats: () => {
      stats = emptyStats();
      cdn = new MediaCdn(options.seed, options.media);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}

/** The fault that really shaped this response, for the stats. */
function appliedFault(fault: FaultKind | undefined, result: RouteResult): FaultKind | undefined {
  if (fault === 'slow') return fault;
  if (result.error) return undefined;
  if (
    fault === 'socket_destroyed' ||
    fault === 'truncated_200' ||
    fault === 'cut_mid_body' ||
    fault === 'stall_after_headers'
  )
    return fault;
  const isList =
    result.endpoint === 'conversations' ||
    result.endpoint === 'messages' ||
    result.endpoint === 'conversation';
  return fault === 'empty_page_with_next' && isList ? fault : undefined;
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
  res.end(JSON.stringify(body));
}

function sendError(
  res: ServerResponse,
  reply: GraphErrorReply,
  headers: Record<string, string> | undefined,
): void {
  const fbtrace_id = randomBytes(8).toString('base64url');
  sendJson(
    res,
    reply.status,
    { error: { ...reply.error, fbtrace_id } },
    { 'www-authenticate': 'OAuth "Facebook Platform"', ...headers },
  );
}

function usageHeaders(
  meter: RateMeter,
  userId: string,
  options: SandboxOptions,
  now: number,
): Record<string, string> {
  if (!options.usageHeaders) return {};
  const pct = meter.usagePercent();
  return {
    'x-app-usage': JSON.stringify({ call_count: pct, total_time: pct, total_cputime: pct }),
    'x-business-use-case-usage': JSON.stringify({
      [userId]: [
        {
          type: 'instagram',
          call_count: pct,
          total_cputime: pct,
          total_time: pct,
          estimated_time_to_regain_access: meter.regainMinutes(now),
        },
      ],
    }),
  };
}
