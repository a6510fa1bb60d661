import type { Policy, Wire } from './send-chain.js';

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

export function emptyMetrics(): ClientMetrics {
  return { calls: {}, failures: {}, retries: {}, throttles: 0, throttleWaitMs: 0 };
}

/** Counts every call that goes on the wire, by endpoint. */
export function countCalls(metrics: ClientMetrics): Policy<Wire> {
  return (next) => (endpoint, url, method) => {
    metrics.calls[endpoint] = (metrics.calls[endpoint] ?? 0) + 1;
    return next(endpoint, url, method);
  };
}
