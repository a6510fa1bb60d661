import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GraphAuthError } from '../../src/graph/errors.js';
import { silentLogger } from '../../src/logger.js';
import type { FaultKind } from '../../src/sandbox/faults.js';
import { exportSandbox, tempDir } from '../helpers/export-options.js';
import { byKey, expectedMessageRows, readNdjson, withoutRunColumns } from '../helpers/expected-rows.js';
import { startSandbox } from '../helpers/sandbox-fixture.js';
import { VirtualClock } from '../helpers/virtual-clock.js';

/** Sequential runs: with one request at a time the virtual clock is exact, so waits can be proven from the log. */
const SEQUENTIAL = { conversationConcurrency: 1, hydrateConcurrency: 1 };
const ONE_AT_A_TIME = { run: SEQUENTIAL };

/** The reason the client records for a call that met each injected fault. */
const REASON: Partial<Record<FaultKind, string>> = {
  transient_500: 'code_2',
  html_502: 'http_502',
  truncated_200: 'truncated_body',
  socket_destroyed: 'connection',
  cut_mid_body: 'connection',
  reset_before_headers: 'connection',
  throttle: 'code_80002',
  not_found_throttle: 'code_100_33',
};

/** Failed calls a clean run has too: the details of unsent messages inside the window answer "deleted". */
function deletedAnswers(sandbox: Awaited<ReturnType<typeof startSandbox>>): Record<string, number> {
  const n = expectedMessageRows(sandbox).filter((r) => r['hydration_status'] === 'unavailable').length;
  return n === 0 ? {} : { code_100_deleted: n };
}

async function runWithFaults(
  rates: Partial<Record<FaultKind, number>>,
  seed = 11,
  conversations = 40,
  notFoundRetries = 2,
  hydrate: 'auto' | 'per-message' = 'per-message',
) {
  const clock = new VirtualClock();
  const sandbox = await startSandbox({ seed, conversations, now: () => clock.now(), faults: { rates } });
  const warnings: string[] = [];
  const logger = { ...silentLogger, warn: (message: string) => warnings.push(message) };
  const summary = await exportSandbox(
    sandbox,
    await tempDir(),
    { client: { notFoundRetries }, run: { ...SEQUENTIAL, hydrate } },
    { clock, logger },
  );
  const rows = (
    await Promise.all(summary.snapshotDirs.map((d) => readNdjson(join(d, 'messages.ndjson'))))
  ).flat();
  return { sandbox, summary, rows, clock, warnings };
}

describe('fault injection: every transient fault is retried and the export equals a clean run', () => {
  it.each(Object.keys(REASON) as FaultKind[])('%s', async (kind) => {
    // 100/33 gets a few retries only (then the object counts as unavailable); allow enough for a 10 % rate here.
    const { sandbox, summary, rows } = await runWithFaults({ [kind]: 0.1 }, 11, 20, 6);
    const injected = sandbox.stats.faults[kind] ?? 0;
    expect(injected).toBeGreaterThan(0);
    expect(summary.status).toBe('complete');
    expect(byKey(withoutRunColumns(rows), 'message_id')).toEqual(
      byKey(expectedMessageRows(sandbox), 'message_id'),
    );
    expect(summary.metrics.failures).toEqual({
      [REASON[kind]!]: injected,
      ...deletedAnswers(sandbox),
    });
  });

  it('a throttled account gets no call until the wait it was given has passed', async () => {
    const { sandbox, summary, warnings } = await runWithFaults({ throttle: 0.05 });
    const log = sandbox.stats.requests;
    const throttled = log.filter((r) => r.throttled);
    expect(throttled.length).toBeGreaterThan(0);
    // Each wait is logged once, with its reason and length.
    const waits = warnings.filter((w) => w.startsWith('pausing all calls'));
    expect(waits).toHaveLength(throttled.length);
    expect(waits[0]).toMatch(/^pausing all calls for 60 s: throttled \(code_80002\) on \w+$/);
    for (const t of throttled) {
      const next = log.find((r) => r.seq > t.seq);
      if (next) expect(next.t - t.t).toBeGreaterThanOrEqual(60_000); // estimated_time_to_regain_access: 1 minute
    }
    expect(sandbox.stats.callsDuringBlock).toBe(0);
    expect(summary.metrics.throttles).toBe(throttled.length);
    expect(summary.metrics.throttleWaitMs).toBe(throttled.length * 60_000);
    expect(summary.snapshotDirs.length).toBeGreaterThan(1); // hours of throttle waits: checkpoints were published
  });

  it.each([4, 17, 613])('throttle code %i is honoured the same way', async (code) => {
    const clock = new VirtualClock();
    const sandbox = await startSandbox({
      seed: 2,
      conversations: 10,
      now: () => clock.now(),
      faults: { rates: { throttle: 0.1 }, throttleCode: code },
    });
    const summary = await exportSandbox(sandbox, await tempDir(), ONE_AT_A_TIME, { clock });
    expect(summary.status).toBe('complete');
    expect(summary.metrics.failures).toEqual({
      [`code_${code}`]: sandbox.stats.faults['throttle'],
      ...deletedAnswers(sandbox),
    });
    expect(sandbox.stats.callsDuringBlock).toBe(0);
  });

  it('a request that times out is retried', async () => {
    const sandbox = await startSandbox({
      seed: 3,
      conversations: 3,
      messageCounts: [6, 6, 6],
      // A wide margin between a normal reply and the timeout: a loaded CI machine must not time out a normal call.
      faults: { rates: { slow: 0.2 }, slowMs: 3_000 },
    });
    const summary = await exportSandbox(sandbox, await tempDir(), { client: { timeoutMs: 1_000 } });
    expect(sandbox.stats.faults['slow']).toBeGreaterThan(0);
    expect(summary.status).toBe('complete');
    expect(summary.metrics.failures).toEqual({
      timeout: sandbox.stats.faults['slow'],
      ...deletedAnswers(sandbox),
    });
  });

  it('a body that stalls after its headers, past the timeout, is retried', async () => {
    const sandbox = await startSandbox({
      seed: 3,
      conversations: 3,
      messageCounts: [6, 6, 6],
      faults: { rates: { stall_after_headers: 0.2 }, slowMs: 3_000 },
    });
    const summary = await exportSandbox(sandbox, await tempDir(), { client: { timeoutMs: 1_000 } });
    expect(sandbox.stats.faults['stall_after_headers']).toBeGreaterThan(0);
    expect(summary.status).toBe('complete');
    expect(summary.metrics.failures).toEqual({
      timeout: sandbox.stats.faults['stall_after_headers'],
      ...deletedAnswers(sandbox),
    });
  });

  it.each(['per-message', 'auto'] as const)(
    'mixed faults on one call in ten over 150 conversations, hydration %s: the same rows as a clean run, retries match the injected faults',
    async (hydrate) => {
      const rates = {
        transient_500: 0.02,
        html_502: 0.02,
        truncated_200: 0.02,
        socket_destroyed: 0.02,
        cut_mid_body: 0.02,
        reset_before_headers: 0.02,
        not_found_throttle: 0.01,
        throttle: 0.01,
      };
      const { sandbox, summary, rows } = await runWithFaults(rates, 21, 150, 2, hydrate);
      if (hydrate === 'auto') expect(summary.hydration).toEqual({ strategy: 'expand', fallback: null });
      expect(summary.status).toBe('complete');
      expect(byKey(withoutRunColumns(rows), 'message_id')).toEqual(
        byKey(expectedMessageRows(sandbox), 'message_id'),
      );
      // Several kinds share a reason (a reset and a cut body are both `connection`).
      const expected: Record<string, number> = { ...deletedAnswers(sandbox) };
      for (const [kind, n] of Object.entries(sandbox.stats.faults)) {
        const reason = REASON[kind as FaultKind] ?? kind;
        expected[reason] = (expected[reason] ?? 0) + n;
      }
      expect(summary.metrics.failures).toEqual(expected);
      const injected = Object.values(sandbox.stats.faults).reduce((a, b) => a + b, 0);
      expect(injected / sandbox.stats.requests.length).toBeGreaterThan(0.08);
    },
  );

  it('a token that expires mid-run stops the run as an auth error and publishes what was done as partial', async () => {
    const clock = new VirtualClock();
    const sandbox = await startSandbox({
      seed: 8,
      conversations: 20,
      now: () => clock.now(),
      faults: { tokenExpiresAfter: 60 },
    });
    const summary = await exportSandbox(sandbox, await tempDir(), ONE_AT_A_TIME, { clock });
    expect(summary.status).toBe('partial');
    expect(summary.stopReason).toBe('auth');
    expect(summary.stopError).toBeInstanceOf(GraphAuthError);
    expect(summary.stopError?.message).toMatch(/expired on .*create a new long-lived token/);
    expect(sandbox.stats.requests).toHaveLength(61); // no retry of an auth failure
    expect(summary.manifest?.stop_reason).toBe('auth');
  });
});

describe('usage headers', () => {
  it('slow the account down before it reaches 100 % of its quota', async () => {
    const clock = new VirtualClock();
    const sandbox = await startSandbox({
      seed: 5,
      conversations: 5,
      messageCounts: [15, 15, 15, 15, 15],
      now: () => clock.now(),
      rateLimit: { usageQuota: 86, usageWindowMs: 3_600_000 }, // 82 calls reach 95 %
    });
    const summary = await exportSandbox(
      sandbox,
      await tempDir(),
      { client: { maxRps: 10 }, run: SEQUENTIAL },
      { clock },
    );
    expect(summary.status).toBe('complete');
    const t = sandbox.stats.requests.map((r) => r.t);
    expect(t).toHaveLength(82);
    const gap = (i: number): number => t[i]! - t[i - 1]!;
    expect(gap(10)).toBe(105); // 10 calls/s, 10 calls in every second and 50 ms, while usage is low
    expect(gap(81)).toBeGreaterThan(2 * 105); // above 80 % usage the budget spreads calls out
    expect(sandbox.stats.throttled).toBe(0);
  });
});
