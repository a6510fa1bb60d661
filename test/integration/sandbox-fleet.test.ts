import { afterEach, describe, expect, it } from 'vitest';
import { createSandboxFleet, type SandboxFleet } from '../../src/sandbox/sandbox-fleet.js';

let fleet: SandboxFleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

async function get(url: string, token: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('the multi-account sandbox (one host, routed by token)', () => {
  it('answers each token with its own account and keeps paging on the front host', async () => {
    const now = Date.UTC(2026, 10, 29);
    const off = { callsPerSecond: 0 };
    fleet = await createSandboxFleet([
      { now: () => now, rateLimit: off },
      { now: () => now, conversations: 7, rateLimit: off },
    ]);
    const [one, two] = fleet.accounts;
    const me = await get(`${fleet.url}/v23.0/me?fields=user_id,username`, 'sandbox-token-2');
    expect(me.body).toMatchObject({ user_id: two?.data.account.userId, username: 'shop2' });
    expect(one?.data.account.userId).not.toBe(two?.data.account.userId);

    const page = await get(
      `${fleet.url}/v23.0/me/conversations?platform=instagram&limit=3`,
      'sandbox-token-2',
    );
    const next = (page.body['paging'] as { next?: string } | undefined)?.next ?? '';
    expect(next.startsWith(`${fleet.url}/`)).toBe(true);
    expect((await get(next, 'sandbox-token-2')).status).toBe(200);
    expect(two?.stats.requests).toHaveLength(3);
    expect(one?.stats.requests).toHaveLength(0);

    const unknown = await get(`${fleet.url}/v23.0/me`, 'IGAAnobody');
    expect(unknown.status).toBe(400);
    expect(unknown.body['error']).toMatchObject({ code: 190 });
  });

  it('gives each account its own rate limit, and routes a refreshed token to its account', async () => {
    const now = Date.UTC(2026, 10, 29);
    fleet = await createSandboxFleet(
      [1, 2].map(() => ({ now: () => now, rateLimit: { callsPerSecond: 3, blockMs: 60_000 } })),
    );
    const statuses = async (token: string, n: number): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push((await get(`${fleet?.url ?? ''}/v23.0/me`, token)).status);
      return out;
    };
    // Account 1 goes over its limit within one (virtual) second and is blocked; account 2 is not affected.
    expect((await statuses('sandbox-token-1', 5)).filter((s) => s !== 200).length).toBeGreaterThan(0);
    expect(await statuses('sandbox-token-2', 3)).toEqual([200, 200, 200]);

    const refreshed = await get(
      `${fleet.url}/refresh_access_token?grant_type=ig_refresh_token`,
      'sandbox-token-2',
    );
    const fresh = String(refreshed.body['access_token']);
    expect(fleet.accounts[1]?.tokens.has(fresh)).toBe(true);
    expect(fleet.accounts[0]?.tokens.has(fresh)).toBe(false);
  });
});
