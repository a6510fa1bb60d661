import { describe, expect, it } from 'vitest';
import type { FailureKind } from '../../src/graph/classify.js';
import {
  MAX_THROTTLE_PAUSE_MS,
  retryDecision,
  type PacingState,
  type RetryDecision,
} from '../../src/graph/retry-decision.js';

const limits = { retries: 3, maxThrottles: 5, notFoundRetries: 2, throttleWaitMs: 1_000 };
const fresh = { throttles: 0, notFound: 0, transient: 0 };
const calm: PacingState = { paused: false, consecutiveThrottles: 0, pageLimit: undefined };

describe('retryDecision', () => {
  it.each<
    [string, FailureKind, Partial<typeof fresh>, Partial<PacingState>, number | undefined, RetryDecision]
  >([
    ['a transient failure backs off', 'transient', {}, {}, undefined, { retry: true, after: 'backoff' }],
    ['…until the retry budget is spent', 'transient', { transient: 3 }, {}, undefined, { retry: false }],
    [
      'throttles do not spend the transient budget',
      'throttled',
      { transient: 3 },
      {},
      undefined,
      { retry: true, after: 'throttle', pauseMs: 1_000 },
    ],
    [
      'a throttle naming its wait pauses that long',
      'throttled',
      {},
      {},
      90_000,
      { retry: true, after: 'throttle', pauseMs: 90_000 },
    ],
    [
      'a second episode in a row doubles the pause',
      'throttled',
      {},
      { consecutiveThrottles: 1 },
      undefined,
      { retry: true, after: 'throttle', pauseMs: 2_000 },
    ],
    [
      'the pause is capped at 15 min',
      'throttled',
      {},
      { consecutiveThrottles: 30 },
      undefined,
      { retry: true, after: 'throttle', pauseMs: MAX_THROTTLE_PAUSE_MS },
    ],
    [
      'replies of the running episode join it',
      'throttled',
      {},
      { paused: true },
      undefined,
      { retry: true, after: 'throttle', pauseMs: undefined },
    ],
    [
      '…but a named wait starts its own pause',
      'throttled',
      {},
      { paused: true },
      60_000,
      { retry: true, after: 'throttle', pauseMs: 60_000 },
    ],
    [
      'too many throttles for one request give up',
      'throttled',
      { throttles: 5 },
      {},
      undefined,
      { retry: false },
    ],
    [
      '100/33 is tried again twice',
      'not_found_or_throttled',
      { notFound: 1 },
      {},
      undefined,
      { retry: true, after: 'backoff' },
    ],
    [
      '…then the object counts as unavailable',
      'not_found_or_throttled',
      { notFound: 2 },
      {},
      undefined,
      { retry: false },
    ],
    [
      '"reduce the data" halves the page',
      'shrink',
      {},
      { pageLimit: 100 },
      undefined,
      { retry: true, after: 'shrink', pageLimit: 50 },
    ],
    [
      '…down to one',
      'shrink',
      {},
      { pageLimit: 3 },
      undefined,
      { retry: true, after: 'shrink', pageLimit: 1 },
    ],
    [
      '…and a page of one, or a single call, gives up',
      'shrink',
      {},
      { pageLimit: 1 },
      undefined,
      { retry: false },
    ],
    ['a single call cannot shrink', 'shrink', {}, {}, undefined, { retry: false }],
    ['a refused token is never retried', 'auth', {}, {}, undefined, { retry: false }],
    ['a deleted message is never retried', 'gone', {}, {}, undefined, { retry: false }],
    ['anything else is never retried', 'fatal', {}, {}, undefined, { retry: false }],
  ])('%s', (_name, kind, counts, pacing, waitMs, expected) => {
    expect(retryDecision({ kind, waitMs }, { ...fresh, ...counts }, limits, { ...calm, ...pacing })).toEqual(
      expected,
    );
  });
});
