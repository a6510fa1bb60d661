import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/graph/backoff.js';

describe('backoffDelay', () => {
  const options = { baseMs: 1000, maxMs: 30_000 };
  it('doubles per attempt with jitter between half and all of the step', () => {
    expect(backoffDelay(3, options, () => 1)).toBe(4000);
    expect(backoffDelay(3, options, () => 0)).toBe(2000);
    expect(backoffDelay(4, options, () => 0.5)).toBe(6000);
  });
  it('never waits less than the base or more than the cap', () => {
    expect(backoffDelay(1, options, () => 0)).toBe(1000);
    expect(backoffDelay(20, options, () => 1)).toBe(30_000);
  });
});
