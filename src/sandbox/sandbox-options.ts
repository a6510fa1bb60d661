import type { FaultKind, FaultOptions } from './faults.js';
import type { Endpoint, PagingLinks } from './graph-routes.js';
import { DEFAULT_MEDIA_CDN, type MediaCdnOptions, type MediaRequest } from './media-cdn.js';
import type { RateLimitOptions } from './rate-meter.js';
import type { WebhookSenderOptions } from './webhook-sender.js';

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
  /** A burst of messages for archive imports to match (see dataset.ts); `--dyi-archive` turns it on. */
  archiveFixtures?: boolean | undefined;
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

export function emptyStats(): SandboxStats {
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
