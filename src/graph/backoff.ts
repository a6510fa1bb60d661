/** Retry timing knobs; defaults are documented in the README. */
export interface BackoffOptions {
  /** First delay after a transient failure. */
  baseMs: number;
  /** No delay grows beyond this. */
  maxMs: number;
}

/**
 * Exponential backoff with jitter (stripe-node style): the n-th retry waits between half and all of
 * `base * 2^(n-1)`, capped at `maxMs`, and never less than `baseMs`.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number): number {
  const exp = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt - 1));
  const jittered = exp * (0.5 + random() * 0.5);
  return Math.round(Math.max(options.baseMs, Math.min(options.maxMs, jittered)));
}
