import { backoffDelay, type BackoffOptions } from '../backoff.js';
import { notGraphAnswer } from '../classify.js';
import { GraphRequestError, NotGraphApiError } from '../errors.js';
import {
  retryDecision,
  type AttemptCounts,
  type RetryDecision,
  type RetryLimits,
} from '../retry-decision.js';
import type { GraphCall } from './send-chain.js';
import type { RetryStep } from './transient-retry.js';

export interface GraphRetryContext {
  limits: RetryLimits;
  backoff: BackoffOptions;
  random: () => number;
  baseUrl: string;
  /** The account's pacing when a failure comes back (for the throttle rules). */
  pacing(): { paused: boolean; consecutiveThrottles: number };
  /** What a retry needs first: a throttle episode (pause the account) or a smaller page. */
  prepare(
    decision: Exclude<RetryDecision, { retry: false }>,
    call: GraphCall,
    error: GraphRequestError,
  ): void;
  /** Told about every retry (`attempt` counts this request's failures so far, this one included). */
  onRetry(retry: {
    call: GraphCall;
    error: GraphRequestError;
    counts: AttemptCounts;
    attempt: number;
    waitMs: number;
  }): void;
}

/**
 * The Graph API's retry rules, one request at a time: `retryDecision` (pure, ranked) decides from the failure's
 * classification and this request's counts; throttles wait on the account's pacing, everything else on the backoff.
 * On the run's first call, an answer that is not the Graph API's is retried once and then named as a wrong host.
 */
export function graphRetryRules(ctx: GraphRetryContext): (call: GraphCall) => (error: unknown) => RetryStep {
  return (call) => {
    const counts: AttemptCounts = { throttles: 0, notFound: 0, transient: 0 };
    let attempts = 0;
    let notGraph = 0;
    return (error) => {
      if (!(error instanceof GraphRequestError)) return { retry: false };
      attempts++;
      const { classification } = error;
      if (call.firstContact && error.facts && notGraphAnswer(error.facts)) {
        // Once may be a proxy's hiccup; twice is the wrong host.
        if (++notGraph >= 2)
          return { retry: false, error: new NotGraphApiError(ctx.baseUrl, error, error.facts.contentType) };
        return backoff(error);
      }
      const decision = retryDecision(classification, counts, ctx.limits, {
        ...ctx.pacing(),
        pageLimit: call.page?.limit,
      });
      if (classification.kind === 'throttled') counts.throttles++;
      if (classification.kind === 'transient') counts.transient++;
      if (classification.kind === 'not_found_or_throttled') counts.notFound++;
      if (!decision.retry) return { retry: false };
      ctx.prepare(decision, call, error);
      if (classification.kind !== 'throttled') return backoff(error);
      // A throttle is waited out by the account's pacing, and does not lengthen the backoff of the next failure.
      ctx.onRetry({ call, error, counts, attempt: attempts, waitMs: 0 });
      return { retry: true, waitMs: 0, spendsRetry: false };
    };
    function backoff(error: GraphRequestError): RetryStep {
      const waitMs = backoffDelay(attempts - counts.throttles, ctx.backoff, ctx.random);
      ctx.onRetry({ call, error, counts, attempt: attempts, waitMs });
      return { retry: true, waitMs, spendsRetry: true };
    }
  };
}
