import pRetry, { AbortError } from 'p-retry';
import type { Clock } from '../../clock.js';

/** After a failed attempt: stop (with this error, or the attempt's own), or wait and try again. */
export type RetryStep =
  | { retry: false; error?: Error | undefined }
  | {
      retry: true;
      /** Waited before the next attempt (0: the next attempt's own pacing does the waiting). */
      waitMs: number;
      /** Whether this attempt spends one of `maxRetries` (a throttle is paid for by waiting instead). */
      spendsRetry: boolean;
    };

export interface RetryOptions<C> {
  /** Rules for one request: called once per request, so they may count its failures. */
  rulesFor(request: C): (error: unknown) => RetryStep;
  /** Retries spent at most (steps with `spendsRetry: false` are not counted); by default the rules alone decide. */
  maxRetries?: number | undefined;
  clock: Clock;
  signal?: AbortSignal | undefined;
}

/**
 * The retry policy, shared by Graph calls and media downloads: p-retry runs the attempts, the caller's rules decide
 * after each failure (what to count, how long to wait, when to stop), and the wait goes through the injected clock.
 * An AbortError from a step below is final.
 */
export function transientRetry<C, T>(
  options: RetryOptions<C>,
): (next: (request: C) => Promise<T>) => (request: C) => Promise<T> {
  const { clock, signal } = options;
  return (next) => async (request) => {
    const rules = options.rulesFor(request);
    let step: RetryStep = { retry: false };
    const attempt = async (): Promise<T> => {
      try {
        return await next(request);
      } catch (e) {
        if (e instanceof AbortError) throw e;
        step = rules(e);
        if (!step.retry) throw new AbortError(step.error ?? (e as Error));
        throw e;
      }
    };
    return pRetry(attempt, {
      retries: options.maxRetries ?? Number.POSITIVE_INFINITY,
      minTimeout: 0,
      maxTimeout: 0,
      factor: 1,
      randomize: false,
      ...(signal ? { signal } : {}),
      shouldConsumeRetry: () => !step.retry || step.spendsRetry,
      onFailedAttempt: async ({ retriesLeft }) => {
        if (step.retry && step.waitMs > 0 && retriesLeft > 0) await clock.sleep(step.waitMs, signal);
      },
    });
  };
}
