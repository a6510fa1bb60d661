import { describe, expect, it } from 'vitest';
import { expiryWarning, refreshDue } from '../../src/pipeline/token-lifecycle.js';

const DAY = 86_400_000;
const now = Date.UTC(2026, 10, 29);

describe('token lifecycle decisions', () => {
  it('refreshes an unknown token, never one younger than 24 h, and a known one only within 10 days of expiry', () => {
    expect(refreshDue(undefined, now)).toBe(true);
    expect(refreshDue({ obtainedMs: now - 23 * 3_600_000, expiresMs: now + DAY }, now)).toBe(false);
    expect(refreshDue({ obtainedMs: now - 2 * DAY, expiresMs: undefined }, now)).toBe(true);
    expect(refreshDue({ obtainedMs: now - 2 * DAY, expiresMs: now + 11 * DAY }, now)).toBe(false);
    expect(refreshDue({ obtainedMs: now - 2 * DAY, expiresMs: now + 10 * DAY }, now)).toBe(true);
  });

  it('warns within 7 days of the recorded expiry, and after it', () => {
    expect(expiryWarning(undefined, now)).toBeUndefined();
    expect(expiryWarning({ obtainedMs: 0, expiresMs: now + 8 * DAY }, now)).toBeUndefined();
    expect(expiryWarning({ obtainedMs: 0, expiresMs: now + 6 * DAY + 1 }, now)).toMatch(/expires in 6 days/);
    expect(expiryWarning({ obtainedMs: 0, expiresMs: now - 1 }, now)).toMatch(/expired at .*create a new/);
  });
});
