import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mergeSettings } from '../../src/cli/export-settings.js';
import { exportFleet } from '../../src/cli/fleet-export.js';
import { silentLogger } from '../../src/logger.js';
import { createSandboxFleet, fleetToken, type SandboxFleet } from '../../src/sandbox/sandbox-fleet.js';

let fleet: SandboxFleet | undefined;
let dir: string | undefined;
afterEach(async () => {
  // Test files share a worker (isolate: false): leave no token variable or stdout stub behind.
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
  await fleet?.close();
  fleet = undefined;
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('a fleet run', () => {
  it("staggers the first wave's starts: no account calls before its turn, and the later waves do not wait", async () => {
    const off = { callsPerSecond: 0 };
    fleet = await createSandboxFleet([1, 2, 3, 4].map(() => ({ conversations: 2, rateLimit: off })));
    dir = await mkdtemp(join(tmpdir(), 'ig-fleet-stagger-'));
    const accounts = fleet.accounts.map((s, i) => {
      vi.stubEnv(`IG_STAGGER_TOKEN_${i + 1}`, fleetToken(i + 1));
      return {
        name: `shop-${i + 1}`,
        account: s.data.account.userId,
        token_env: `IG_STAGGER_TOKEN_${i + 1}`,
      };
    });
    const settings = mergeSettings(
      { 'base-url': fleet.url, output: join(dir, 'archive'), 'max-rps': 1000, 'account-concurrency': 3 },
      {},
    );
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);

    const sleeps: Array<{ ms: number; release: () => void }> = [];
    // Held until the test lets them go; once it has, a later wait (there should be none) passes at once.
    let holding = true;
    const run = exportFleet(settings, accounts, {
      logger: silentLogger,
      json: false,
      signal: new AbortController().signal,
      display: undefined,
      selection: { listed: accounts.length, names: null, shard: null },
      sleep: (ms) =>
        new Promise<void>((release) => {
          sleeps.push({ ms, release });
          if (!holding) release();
        }),
    });
    const requests = (): number[] => fleet?.accounts.map((s) => s.stats.requests.length) ?? [];

    // The first account starts at once; the second and third wait 10 and 20 ms (the test holds them).
    await vi.waitFor(() => expect(requests()[0]).toBeGreaterThan(0), { timeout: 30_000 });
    expect(sleeps.map((s) => s.ms)).toEqual([10, 20]);
    expect(requests().slice(1)).toEqual([0, 0, 0]);

    sleeps[0]?.release();
    await vi.waitFor(() => expect(requests()[1]).toBeGreaterThan(0), { timeout: 30_000 });
    expect(requests()[2]).toBe(0);

    holding = false;
    for (const s of sleeps) s.release();
    const { code, summary } = await run;
    expect(code).toBe(0);
    expect(summary).toMatchObject({ status: 'complete', accounts: 4, complete: 4 });
    // The fourth account came in the second wave, when a slot freed, without a wait of its own.
    expect(sleeps).toHaveLength(2);
    expect(requests().every((n) => n > 0)).toBe(true);
  });
});
