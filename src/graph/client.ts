import { setMaxListeners } from 'node:events';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { BackoffOptions } from './backoff.js';
import { CallBudget } from './call-budget.js';
import { GraphPagingError, type GraphRequestError } from './errors.js';
import { AuthLatch } from './policies/auth-latch.js';
import { countCalls, emptyMetrics, type ClientMetrics } from './policies/call-metrics.js';
import { graphReply, describeUrl } from './policies/graph-reply.js';
import { graphRetryRules } from './policies/graph-retry-rules.js';
import { readHostSignals, type HostSignals } from './policies/host-signals.js';
import { pacing } from './policies/pacing.js';
import { wrap, type GraphCall, type PageSize, type Send, type Wire } from './policies/send-chain.js';
import { transientRetry } from './policies/transient-retry.js';
import { stripAccessToken } from './redact.js';
import type { AttemptCounts, RetryDecision } from './retry-decision.js';
import { sendGet, type Transport } from './transport.js';

export type { ClientMetrics } from './policies/call-metrics.js';

/** What the user configures about the client (flags and config file); the run supplies the rest. */
export interface GraphClientSettings {
  baseUrl: string;
  apiVersion: string;
  token: string;
  /** Calls per second for this account, shared by every stage. */
  maxRps: number;
  /** Per-request timeout. */
  timeoutMs: number;
  /** Retries of a transient failure before the item is given up. */
  retries: number;
  backoff: BackoffOptions;
  /**
   * Pause after a throttle whose reply named no time: short, since Meta's Conversations limit is per second; it
   * doubles while throttles repeat with no successful call between them, up to 15 min.
   */
  throttleWaitMs: number;
  /** Throttles one request may meet before it is given up. */
  maxThrottles: number;
  /** Retries of a 100/33 "does not exist" (a disguised throttle, sometimes) before the object counts as unavailable. */
  notFoundRetries: number;
  slowDownAbovePercent: number;
  /** Where the token came from, for the advice of an auth failure (`IG_TOKEN_SHOP3`, `--token-file ~/.ig-token`). */
  tokenSource?: string | undefined;
}

export interface GraphClientOptions extends GraphClientSettings {
  clock: Clock;
  random: () => number;
  logger: Logger;
  signal?: AbortSignal | undefined;
  /** How requests are sent; the default is `fetch` (tests of the policies inject their own). */
  transport?: Transport | undefined;
}

/** One page of a cursor-paged list: its items, and whether another page follows (a call each). */
export interface ListPage {
  items: unknown[];
  more: boolean;
  /** `paging.cursors.after`, when the page had one (a fallback can continue from it). */
  after?: string | undefined;
}

/** What a list page said about the rest: its `next` link (token stripped), its `after` cursor, its size. */
export interface PageLinks {
  next: URL | undefined;
  after: string | undefined;
  items: number;
  /** The page size this page was asked for. */
  limit: number;
}

/** Builds the request of the page after this one, or says there is none. */
export type FollowPage = (page: PageLinks) => ((limit: number) => URL) | undefined;

/** The default: follow `paging.next` as given, with our page size; stop when it is absent. */
export const followNextLink: FollowPage = ({ next }) =>
  next === undefined
    ? undefined
    : (limit) => {
        const u = new URL(next);
        u.searchParams.set('limit', String(limit));
        return u;
      };

const RESTORE_AFTER_PAGES = 10;

/**
 * The Graph client: one `send` function with a policy wrapped around it for each concern (octokit-style
 * `(next) => send` wrappers, each in its own file under policies/), outermost first: retry (the ranked, pure
 * `retryDecision`) → auth latch → pacing (the account's CallBudget) → the reply, classified; below it, on the wire, call counts and
 * what replies say about usage. `paginate` walks lists on top. It knows nothing about conversations or files.
 */
export class GraphClient {
  readonly metrics: ClientMetrics = emptyMetrics();
  private readonly budget: CallBudget;
  private readonly origin: string;
  private readonly host: HostSignals = {
    answered: false,
    usageHeadersSeen: new Set(),
    consecutiveThrottles: 0,
  };
  /** The Graph codes (or HTTP 429) the host throttled with. */
  readonly throttleCodesSeen = new Set<number>();
  private readonly send: Send;

  constructor(private readonly options: GraphClientOptions) {
    this.origin = new URL(options.baseUrl).origin;
    this.budget = new CallBudget({
      maxRps: options.maxRps,
      slowDownAbovePercent: options.slowDownAbovePercent,
      clock: options.clock,
      onWait: (reason, ms) => {
        if (ms > 0) this.metrics.throttleWaitMs += ms;
        options.logger.warn(ms > 0 ? `pausing all calls for ${Math.round(ms / 1000)} s: ${reason}` : reason, {
          reason,
          waitMs: ms,
        });
      },
    });
    const stop = ownStopSignal(options.signal);
    const transport = options.transport ?? sendGet;
    const wire = wrap<Wire>(
      (_endpoint, url, method) => transport(url, options.token, options.timeoutMs, stop, method),
      countCalls(this.metrics),
      readHostSignals(this.budget, options.clock, this.host),
    );
    const latch = new AuthLatch(options.tokenSource);
    const retry = transientRetry<GraphCall, unknown>({
      rulesFor: graphRetryRules({
        limits: options,
        backoff: options.backoff,
        random: options.random,
        baseUrl: options.baseUrl,
        pacing: () => ({ paused: this.budget.paused, consecutiveThrottles: this.host.consecutiveThrottles }),
        prepare: (decision, call, error) => this.prepareRetry(decision, call, error),
        onRetry: (retry) => this.onRetry(retry),
      }),
      clock: options.clock,
      signal: stop,
    });
    this.send = wrap<Send>(
      graphReply(wire, this.origin, this.metrics, this.throttleCodesSeen),
      retry,
      latch.policy,
      pacing(this.budget, stop, () => latch.check()),
    );
  }

  /** Usage headers the host has sent (`ig-export probe` reports them: whether Instagram sends them is a GUESS). */
  get usageHeadersSeen(): ReadonlySet<string> {
    return this.host.usageHeadersSeen;
  }

  /** `/{version}/{path}?{params}` on the base URL. */
  url(path: string, params: Record<string, string> = {}): URL {
    return this.rootUrl(`${this.options.apiVersion}/${path}`, params);
  }

  /** `/{path}?{params}` on the base URL, unversioned (the token refresh endpoint lives there). */
  rootUrl(path: string, params: Record<string, string> = {}): URL {
    const url = new URL(`${this.options.baseUrl.replace(/\/$/, '')}/${path}`);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    return url;
  }

  /**
   * One GET with every policy applied. `endpoint` labels the call in the metrics. `firstContact` marks the first call
   * a run makes to the host: an answer that is not the Graph API's is retried once, then named as a wrong
   * `--base-url` (NotGraphApiError) instead of being retried for half a minute.
   */
  async get(endpoint: string, url: URL, options: { firstContact?: boolean } = {}): Promise<unknown> {
    return this.send({
      endpoint,
      method: 'GET',
      build: () => url,
      page: undefined,
      firstContact: options.firstContact === true,
    });
  }

  /** One POST with every policy applied (only idempotent ones are sent: retrying them is safe). */
  async post(endpoint: string, url: URL): Promise<unknown> {
    return this.send({ endpoint, method: 'POST', build: () => url, page: undefined, firstContact: false });
  }

  /**
   * Walks a cursor-paged list, yielding each page's `data`. `follow` decides where the next page is (by default the
   * `paging.next` link; an empty page that still has `next` is followed); a request repeated is an error, not a loop.
   * `first(limit)` builds the first request; `select` finds the page inside the body (for nested edges).
   */
  async *paginate(
    endpoint: string,
    first: (limit: number) => URL,
    pageSize: number,
    select: (body: unknown) => unknown = (b) => b,
    follow: FollowPage = followNextLink,
  ): AsyncGenerator<ListPage> {
    const state: PageSize = { limit: pageSize, requested: pageSize, pagesSinceShrink: 0 };
    let build = first;
    const seen = new Set<string>();
    for (;;) {
      const asked = state.limit;
      const body = await this.send({ endpoint, method: 'GET', build, page: state, firstContact: false });
      if (state.limit < state.requested && ++state.pagesSinceShrink >= RESTORE_AFTER_PAGES) {
        state.limit = Math.min(state.requested, state.limit * 2);
        state.pagesSinceShrink = 0;
      }
      const page = select(body) as
        { data?: unknown; paging?: { next?: unknown; cursors?: { after?: unknown } } } | undefined;
      if (!page || !Array.isArray(page.data)) {
        throw new GraphPagingError(
          `${endpoint}: the response has no data array (${describeUrl(build(state.limit))})`,
        );
      }
      const rawNext = page.paging?.next;
      const rawAfter = page.paging?.cursors?.after;
      const after = typeof rawAfter === 'string' && rawAfter !== '' ? rawAfter : undefined;
      const next = typeof rawNext === 'string' && rawNext !== '' ? this.followable(rawNext) : undefined;
      const following = follow({ next, after, items: page.data.length, limit: asked });
      yield { items: page.data, more: following !== undefined, after };
      if (following === undefined) return;
      // The same request twice would page forever: the cursor did not move.
      const key = describeUrl(following(0));
      if (seen.has(key)) {
        throw new GraphPagingError(
          `${endpoint}: paging returned the same page twice (${key}); stopping instead of looping`,
        );
      }
      seen.add(key);
      build = following;
    }
  }

  /** A `paging.next` URL minus its embedded token; refuses to send our token to another host. */
  followable(next: string): URL {
    let url: URL;
    try {
      url = new URL(next);
    } catch {
      throw new GraphPagingError(`paging.next is not a URL`);
    }
    if (url.origin !== this.origin) {
      throw new GraphPagingError(
        `paging.next points to ${url.origin}, not ${this.origin}; refusing to follow it`,
      );
    }
    return stripAccessToken(url);
  }

  /** What a retry needs first: the account paused (a new throttle episode), or a smaller page. */
  private prepareRetry(
    decision: Exclude<RetryDecision, { retry: false }>,
    call: GraphCall,
    error: GraphRequestError,
  ): void {
    if (decision.after === 'throttle' && decision.pauseMs !== undefined) {
      this.host.consecutiveThrottles++;
      this.budget.slowDown();
      this.budget.pauseUntil(
        this.options.clock.now() + decision.pauseMs,
        `throttled (${error.classification.reason}) on ${call.endpoint}`,
      );
    }
    if (decision.after === 'shrink' && call.page) {
      call.page.limit = decision.pageLimit;
      call.page.pagesSinceShrink = 0;
      this.options.logger.warn(
        `${call.endpoint}: Graph asked for less data; page size now ${call.page.limit}`,
      );
    }
  }

  /** Every retry is counted; while the host has never answered, each one is said aloud, so nobody watches a silent terminal. */
  private onRetry({
    call,
    error,
    counts,
    attempt,
    waitMs,
  }: {
    call: GraphCall;
    error: GraphRequestError;
    counts: AttemptCounts;
    attempt: number;
    waitMs: number;
  }): void {
    this.metrics.retries[error.kind] = (this.metrics.retries[error.kind] ?? 0) + 1;
    if (error.kind === 'throttled') return;
    const fields = { reason: error.classification.reason, attemptNumber: attempt };
    if (error.status === undefined && !this.host.answered) {
      const cause = `${error.networkCode ?? error.classification.reason} ${new URL(this.options.baseUrl).host}`;
      this.options.logger.warn(
        `retrying in ${formatWait(waitMs)} (${counts.transient}/${this.options.retries}): ${cause}`,
        fields,
      );
    } else {
      this.options.logger.debug(`retrying ${call.endpoint} in ${waitMs} ms`, fields);
    }
  }
}

/**
 * Every request in flight and every pacing wait listens to the run's stop signal, by design. They listen to the
 * client's own copy of it, whose listener limit is off: the caller's signal gets one listener however many requests
 * run, and no MaxListenersExceededWarning.
 */
function ownStopSignal(signal: AbortSignal | undefined): AbortSignal | undefined {
  if (!signal) return undefined;
  const own = new AbortController();
  setMaxListeners(0, own.signal);
  if (signal.aborted) own.abort(signal.reason);
  else signal.addEventListener('abort', () => own.abort(signal.reason), { once: true });
  return own.signal;
}

function formatWait(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}
