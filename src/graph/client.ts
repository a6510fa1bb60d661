import pRetry, { AbortError } from 'p-retry';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import { CallBudget } from './call-budget.js';
import { classifyFailure, notGraphAnswer, TOKEN_SOURCE, type Classification } from './classify.js';
import {
  GraphAuthError,
  GraphConfigError,
  GraphPagingError,
  GraphRequestError,
  NotGraphApiError,
} from './errors.js';
import { stripAccessToken } from './redact.js';
import { retryDecision, type AttemptCounts, type RetryDecision } from './retry-decision.js';
import { sendGet, type Transport, type TransportResult } from './transport.js';

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

export interface ClientMetrics {
  /** Every HTTP call made, retries included, by endpoint label. */
  calls: Record<string, number>;
  /** Failed calls by classification reason (`code_2`, `http_502_not_json`, `timeout`, …). */
  failures: Record<string, number>;
  /** Failed calls that were retried, by classification kind. */
  retries: Record<string, number>;
  throttles: number;
  /** Total time the account was paused by throttles. */
  throttleWaitMs: number;
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

/** Page size state of one paginated walk: halved on "reduce the amount of data", restored after a while. */
interface LimitState {
  limit: number;
  requested: number;
  pagesSinceShrink: number;
}

const RESTORE_AFTER_PAGES = 10;

/**
 * The Graph client: one `request` function with policies around it — classify → retry (p-retry) → throttle
 * (the account's CallBudget) → paginate. It knows nothing about conversations or files.
 */
export class GraphClient {
  readonly metrics: ClientMetrics = { calls: {}, failures: {}, retries: {}, throttles: 0, throttleWaitMs: 0 };
  private readonly budget: CallBudget;
  private readonly origin: string;
  private consecutiveThrottles = 0;
  /** The host has answered at least once (any HTTP response): network retries are quiet from then on. */
  private answered = false;
  /** Usage headers the host has sent (`ig-export probe` reports them: whether Instagram sends them is a GUESS). */
  readonly usageHeadersSeen = new Set<string>();
  /** The Graph codes (or HTTP 429) the host throttled with. */
  readonly throttleCodesSeen = new Set<number>();
  /** Set by the first auth failure: the token is dead, so no further call is spent on it. */
  private authFailure: GraphAuthError | undefined;

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
    return this.request(endpoint, () => url, undefined, 'GET', options.firstContact === true);
  }

  /** One POST with every policy applied (only idempotent ones are sent: retrying them is safe). */
  async post(endpoint: string, url: URL): Promise<unknown> {
    return this.request(endpoint, () => url, undefined, 'POST');
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
    const state: LimitState = { limit: pageSize, requested: pageSize, pagesSinceShrink: 0 };
    let build = first;
    const seen = new Set<string>();
    for (;;) {
      const asked = state.limit;
      const body = await this.request(endpoint, build, state);
      if (state.limit < state.requested && ++state.pagesSinceShrink >= RESTORE_AFTER_PAGES) {
        state.limit = Math.min(state.requested, state.limit * 2);
        state.pagesSinceShrink = 0;
      }
      const page = select(body) as
        { data?: unknown; paging?: { next?: unknown; cursors?: { after?: unknown } } } | undefined;
      if (!page || !Array.isArray(page.data)) {
        throw new GraphPagingError(
          `${endpoint}: the response has no data array (${describe(build(state.limit))})`,
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
      const key = describe(following(0));
      if (seen.has(key)) {
        throw new GraphPagingError(
          `${endpoint}: paging returned the same page twice (${key}); stopping instead of looping`,
        );
      }
      seen.add(key);
      build = following;
    }
  }

  /**
   * Meta may announce a block (`estimated_time_to_regain_access`) on any response, errors included; Airbyte's
   * reading it only on successes made its syncs fail (airbytehq/airbyte#86316).
   */
  private honourAnnouncedBlock(regainMinutes: number | undefined): void {
    if (regainMinutes === undefined || regainMinutes <= 0) return;
    this.budget.pauseUntil(
      this.options.clock.now() + regainMinutes * 60_000,
      `usage headers: regain access in ${regainMinutes} min`,
    );
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

  private async request(
    endpoint: string,
    build: (limit: number) => URL,
    limit: LimitState | undefined,
    method: 'GET' | 'POST' = 'GET',
    firstContact = false,
  ): Promise<unknown> {
    const { signal } = this.options;
    const counts: AttemptCounts & { notGraph: number } = {
      throttles: 0,
      notFound: 0,
      transient: 0,
      notGraph: 0,
    };
    const attempt = async (): Promise<unknown> => {
      if (this.authFailure) throw new AbortError(this.authFailure);
      await this.budget.acquire(signal);
      if (this.authFailure) throw new AbortError(this.authFailure);
      const url = build(limit?.limit ?? 0);
      const result = await this.send(endpoint, url, method);
      if (result.ok) return result.body;
      const classification = classifyFailure(result.facts);
      // A throttle reply's own wait is applied below; any other reply may still announce a block.
      if (classification.kind !== 'throttled') this.honourAnnouncedBlock(result.usage?.regainMinutes);
      const error = new GraphRequestError(
        classification,
        method,
        describe(url),
        result.facts.status,
        result.facts.error,
        {
          cause: result.cause,
          origin: this.origin,
          networkCode: result.facts.networkCode ?? result.facts.network,
        },
      );
      this.metrics.failures[classification.reason] = (this.metrics.failures[classification.reason] ?? 0) + 1;
      if (firstContact && notGraphAnswer(result.facts)) {
        // Once may be a proxy's hiccup; twice is the wrong host.
        if (++counts.notGraph >= 2)
          throw new AbortError(new NotGraphApiError(this.options.baseUrl, error, result.facts.contentType));
        throw error;
      }
      if (classification.kind === 'auth') throw new AbortError(this.latchAuthFailure(error, classification));
      if (classification.kind === 'throttled') {
        this.metrics.throttles++;
        this.throttleCodesSeen.add(result.facts.error?.code ?? result.facts.status ?? 0);
      }
      const decision = retryDecision(classification, counts, this.options, {
        paused: this.budget.paused,
        consecutiveThrottles: this.consecutiveThrottles,
        pageLimit: limit?.limit,
      });
      if (classification.kind === 'throttled') counts.throttles++;
      if (classification.kind === 'transient') counts.transient++;
      if (classification.kind === 'not_found_or_throttled') counts.notFound++;
      if (!decision.retry) throw new AbortError(error);
      this.prepareRetry(decision, endpoint, classification, limit);
      throw error;
    };
    return pRetry(attempt, {
      // p-retry checks its count before `shouldConsumeRetry`, so the count must leave room for every throttle;
      // the transient budget (`retries`) is enforced by retryDecision.
      retries: this.options.retries + this.options.maxThrottles + this.options.notFoundRetries + 1,
      minTimeout: 0,
      maxTimeout: 0,
      factor: 1,
      randomize: false,
      ...(signal ? { signal } : {}),
      // A throttle is paid for by waiting, not by the retry budget.
      shouldConsumeRetry: ({ error }) => !(error instanceof GraphRequestError && error.kind === 'throttled'),
      onFailedAttempt: ({ error, attemptNumber, retriesLeft }) =>
        this.backOff(endpoint, error, attemptNumber, retriesLeft, counts),
    });
  }

  /** One call on the wire, counted, with what its answer says about usage and the host. */
  private async send(endpoint: string, url: URL, method: 'GET' | 'POST'): Promise<TransportResult> {
    const { signal } = this.options;
    this.metrics.calls[endpoint] = (this.metrics.calls[endpoint] ?? 0) + 1;
    const send = this.options.transport ?? sendGet;
    const result = await send(url, this.options.token, this.options.timeoutMs, signal, method).catch(
      (e: unknown) => {
        throw e instanceof GraphConfigError ? new AbortError(e) : e;
      },
    );
    if (result.usage) this.budget.observeUsage(result.usage.maxPercent);
    if (result.ok || result.facts.status !== undefined) this.answered = true;
    for (const name of result.usageHeaders ?? []) this.usageHeadersSeen.add(name);
    if (result.ok) {
      this.honourAnnouncedBlock(result.usage?.regainMinutes);
      this.consecutiveThrottles = 0;
    }
    return result;
  }

  /** The token is dead: every later call of this client fails at once with the same error, without a call. */
  private latchAuthFailure(error: GraphRequestError, classification: Classification): GraphAuthError {
    this.authFailure ??= new GraphAuthError(
      error,
      (classification.hint ?? 'check the token').replace(
        TOKEN_SOURCE,
        this.options.tokenSource ?? TOKEN_SOURCE,
      ),
    );
    return this.authFailure;
  }

  /** What a retry needs first: the account paused (a new throttle episode), or a smaller page. */
  private prepareRetry(
    decision: Exclude<RetryDecision, { retry: false }>,
    endpoint: string,
    classification: Classification,
    limit: LimitState | undefined,
  ): void {
    if (decision.after === 'throttle' && decision.pauseMs !== undefined) {
      this.consecutiveThrottles++;
      this.budget.slowDown();
      this.budget.pauseUntil(
        this.options.clock.now() + decision.pauseMs,
        `throttled (${classification.reason}) on ${endpoint}`,
      );
    }
    if (decision.after === 'shrink' && limit) {
      limit.limit = decision.pageLimit;
      limit.pagesSinceShrink = 0;
      this.options.logger.warn(`${endpoint}: Graph asked for less data; page size now ${limit.limit}`);
    }
  }

  /** Before the next attempt: the backoff (throttles are waited out by the budget), said aloud while the host is silent. */
  private async backOff(
    endpoint: string,
    error: Error,
    attemptNumber: number,
    retriesLeft: number,
    counts: AttemptCounts,
  ): Promise<void> {
    const { clock, logger, signal } = this.options;
    if (!(error instanceof GraphRequestError) || retriesLeft <= 0) return;
    this.metrics.retries[error.kind] = (this.metrics.retries[error.kind] ?? 0) + 1;
    if (error.kind === 'throttled') return; // the budget holds every call until the throttle has passed
    // Throttles are waited out by the budget: they do not lengthen the backoff of the next failure.
    const wait = backoffDelay(attemptNumber - counts.throttles, this.options.backoff, this.options.random);
    const fields = { reason: error.classification.reason, attemptNumber };
    if (error.status === undefined && !this.answered) {
      // The host has not answered once yet: say so on every attempt, so nobody watches a silent terminal.
      const cause = `${error.networkCode ?? error.classification.reason} ${new URL(this.options.baseUrl).host}`;
      logger.warn(
        `retrying in ${formatWait(wait)} (${counts.transient}/${this.options.retries}): ${cause}`,
        fields,
      );
    } else {
      logger.debug(`retrying ${endpoint} in ${wait} ms`, fields);
    }
    await clock.sleep(wait, signal);
  }
}

function formatWait(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}

function describe(url: URL): string {
  const clean = stripAccessToken(url);
  return `${clean.pathname}${clean.search}`;
}
