import type { FailureKind } from './classify.js';

/**
 * What to do after a failed call: one pure, ranked decision from the failure's classification and the attempts so
 * far. Throttles are paid for by waiting (their own count), transient failures by the retry budget, a 100/33 by a
 * couple of tries, "reduce the amount of data" by a smaller page; the token and everything else end the request.
 */

/** Failures of this request so far, by kind, not counting the one being decided. */
export interface AttemptCounts {
  throttles: number;
  notFound: number;
  transient: number;
}

export interface RetryLimits {
  /** Retries of a transient failure. */
  retries: number;
  /** Throttles one request may meet. */
  maxThrottles: number;
  /** Retries of a 100/33 before the object counts as unavailable. */
  notFoundRetries: number;
  /** Pause after a throttle that names no wait; doubles with each throttle episode in a row. */
  throttleWaitMs: number;
}

/** What the account's pacing looks like when the failure comes back. */
export interface PacingState {
  /** The account is paused by an earlier throttle (requests in flight then come back throttled too). */
  paused: boolean;
  /** Throttle episodes in a row with no successful call between them. */
  consecutiveThrottles: number;
  /** The page size of a paginated request (undefined for a single call). */
  pageLimit: number | undefined;
}

export type RetryDecision =
  | { retry: false }
  /** Wait the backoff, then try again. */
  | { retry: true; after: 'backoff' }
  /** Pause the account for `pauseMs` (a new throttle episode) or join the episode already running (undefined). */
  | { retry: true; after: 'throttle'; pauseMs: number | undefined }
  /** Ask again for a smaller page. */
  | { retry: true; after: 'shrink'; pageLimit: number };

/** The longest pause a throttle that named no wait escalates to. */
export const MAX_THROTTLE_PAUSE_MS = 15 * 60_000;

export function retryDecision(
  failure: { kind: FailureKind; waitMs?: number | undefined },
  counts: AttemptCounts,
  limits: RetryLimits,
  pacing: PacingState,
): RetryDecision {
  switch (failure.kind) {
    case 'throttled': {
      if (counts.throttles + 1 > limits.maxThrottles) return { retry: false };
      // Requests in flight when the account is throttled all come back throttled: that is one episode, and it
      // escalates the wait once, not once per reply.
      if (pacing.paused && failure.waitMs === undefined)
        return { retry: true, after: 'throttle', pauseMs: undefined };
      const escalated = Math.min(
        MAX_THROTTLE_PAUSE_MS,
        limits.throttleWaitMs * 2 ** pacing.consecutiveThrottles,
      );
      return { retry: true, after: 'throttle', pauseMs: failure.waitMs ?? escalated };
    }
    case 'transient':
      return counts.transient + 1 > limits.retries ? { retry: false } : { retry: true, after: 'backoff' };
    case 'not_found_or_throttled':
      return counts.notFound + 1 > limits.notFoundRetries
        ? { retry: false }
        : { retry: true, after: 'backoff' };
    case 'shrink':
      return pacing.pageLimit === undefined || pacing.pageLimit <= 1
        ? { retry: false }
        : { retry: true, after: 'shrink', pageLimit: Math.max(1, Math.floor(pacing.pageLimit / 2)) };
    case 'auth':
    case 'gone':
    case 'fatal':
      return { retry: false };
  }
}
