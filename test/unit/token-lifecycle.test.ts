import { describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  expiryWarning,
  refreshDue,
  rememberFirstSeen,
} from '../../src/pipeline/account-tools/token-lifecycle.js';
import { accountForToken, rememberAccountForToken } from '../../src/state/token-accounts.js';
import { recordTokenLifetime, tokenLifetime } from '../../src/state/token-lifetimes.js';

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

describe('token state files under concurrent runs', () => {
  it('keeps every update when many runs record at once, and never overwrites a known lifetime with first-seen', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'igx-digest-'));
    const tokens = Array.from({ length: 12 }, (_, i) => `token-number-${i}`);
    await Promise.all(
      tokens.flatMap((t, i) => [
        recordTokenLifetime(stateDir, t, { obtainedMs: i, expiresMs: now + i }),
        rememberAccountForToken(stateDir, t, `1784000000000${i}`),
      ]),
    );
    await Promise.all(tokens.map((t) => rememberFirstSeen(stateDir, t, now)));
    for (const [i, t] of tokens.entries()) {
      expect(await tokenLifetime(stateDir, t)).toEqual({ obtainedMs: i, expiresMs: now + i });
      expect(await accountForToken(stateDir, t)).toBe(`1784000000000${i}`);
    }
    const files = await readdir(stateDir);
    expect(files.sort()).toEqual(['token-accounts.json', 'token-lifetimes.json']);
    const text = await readFile(join(stateDir, 'token-lifetimes.json'), 'utf8');
    for (const t of tokens) expect(text).not.toContain(t);
  });
});
