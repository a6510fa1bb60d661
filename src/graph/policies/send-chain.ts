import type { TransportResult } from '../transport.js';

/** Page size of one paginated walk: halved on "reduce the amount of data", restored after a while. */
export interface PageSize {
  limit: number;
  requested: number;
  pagesSinceShrink: number;
}

/** One request as the policies see it; every attempt of the request shares this object. */
export interface GraphCall {
  /** Labels the call in the metrics (`conversations`, `messages`, …). */
  endpoint: string;
  method: 'GET' | 'POST';
  /** The URL for the current page size (0 when the request is not paged). */
  build: (limit: number) => URL;
  /** The page size of a paged request, which the shrink rule may lower between attempts. */
  page: PageSize | undefined;
  /** The run's first call to the host: an answer that is not the Graph API's is named as a wrong `--base-url`. */
  firstContact: boolean;
}

/** One HTTP exchange; an HTTP or network failure is a result, not an exception. */
export type Wire = (endpoint: string, url: URL, method: 'GET' | 'POST') => Promise<TransportResult>;

/**
 * One request: resolves with the body of a successful reply, or rejects with a GraphRequestError (to be retried or
 * not) or p-retry's AbortError (never retried).
 */
export type Send = (call: GraphCall) => Promise<unknown>;

/** A policy wraps the next step, as an octokit plugin wraps `request`. */
export type Policy<S> = (next: S) => S;

/** `wrap(core, a, b, c)` is `a(b(c(core)))`: the first policy listed is the outermost. */
export function wrap<S>(core: S, ...policies: Array<Policy<S>>): S {
  return policies.reduceRight((next, policy) => policy(next), core);
}
