import { describe, expect, it } from 'vitest';
import type { Sandbox, SandboxOverrides } from '../../src/sandbox/create-sandbox.js';
import { exportSandbox, tempDir } from '../helpers/export-options.js';
import { expectSnapshotEqualsSandbox } from '../helpers/expected-rows.js';
import { startSandbox } from '../helpers/sandbox-fixture.js';
import { VirtualClock } from '../helpers/virtual-clock.js';

const pages = (n: number, size = 100): number => Math.max(1, Math.ceil(n / size));

/** Calls of a full export, one call per message detail. */
function perMessageCalls(sandbox: Sandbox): number {
  const c = sandbox.data.conversations;
  return (
    1 +
    pages(c.length) +
    c.reduce((a, x) => a + pages(x.messages.length) + Math.min(20, x.messages.length), 0)
  );
}

/**
 * Calls of a full export through nested expansion: each page of the conversation listing carries every
 * conversation's 20 most recent messages with their details, the rest is listed 100 ids a call, and an unsent
 * message in the window (listed without details) is read on its own to learn it is unavailable.
 */
function expandCalls(sandbox: Sandbox): number {
  const c = sandbox.data.conversations;
  return (
    1 +
    pages(c.length) +
    c.reduce((a, x) => {
      const n = x.messages.length;
      const rest = n > 20 ? Math.ceil((n - 20) / 100) : 0;
      return a + rest + x.messages.slice(0, 20).filter((m) => m.unsent).length;
    }, 0)
  );
}

async function exportWith(overrides: SandboxOverrides, hydrate: 'auto' | 'expand' | 'per-message') {
  const sandbox = await startSandbox({ seed: 91, conversations: 60, unsentRate: 0.03, ...overrides });
  const summary = await exportSandbox(sandbox, await tempDir(), { run: { hydrate } });
  expect(summary.status).toBe('complete');
  await expectSnapshotEqualsSandbox(summary.snapshotDir!, sandbox);
  // Details are never asked of a message beyond the 20 most recent, by expansion or on its own.
  expect(Math.max(...sandbox.stats.hydrations.map((h) => h.position))).toBeLessThan(20);
  return { sandbox, summary, calls: sandbox.stats.requests.length };
}

describe('hydration strategies: the same rows, fewer calls', () => {
  it('auto reads each window through expansion: identical rows, the exact calls, several times fewer', async () => {
    const perMessage = await exportWith({}, 'per-message');
    const auto = await exportWith({}, 'auto');
    expect(perMessage.calls).toBe(perMessageCalls(perMessage.sandbox));
    expect(auto.calls).toBe(expandCalls(auto.sandbox));
    expect(auto.summary.hydration).toEqual({ strategy: 'expand', fallback: null });
    expect(auto.summary.manifest?.hydration).toEqual({ strategy: 'expand', fallback: null });
    expect(auto.summary.metrics.calls['message_window']).toBeUndefined(); // the listing carried every window
    expect(perMessage.calls / auto.calls).toBeGreaterThan(8); // this account has very long conversations: listing them dominates
  });

  it('a server that refuses the expansion: auto falls back once, for one call more than per-message', async () => {
    const { sandbox, summary, calls } = await exportWith({ expansion: 'refuse' }, 'auto');
    expect(calls).toBe(perMessageCalls(sandbox) + 1);
    expect(summary.hydration.strategy).toBe('per-message');
    expect(summary.hydration.fallback?.reason).toMatch(
      /refused the expansion in the conversation listing \(code_100/,
    );
  });

  it('a server that ignores the detail fields: auto learns it from the first answer and hydrates per message', async () => {
    const { sandbox, summary, calls } = await exportWith({ expansion: 'ignore' }, 'auto');
    expect(calls).toBeLessThanOrEqual(perMessageCalls(sandbox) + 2);
    expect(summary.hydration.fallback?.reason).toMatch(/ignored the detail fields/);
  });

  it('"reduce the amount of data" even for one conversation a page: auto falls back', async () => {
    const { sandbox, summary, calls } = await exportWith({ expansionMaxDetailed: 10 }, 'auto');
    // The listing is halved from 100 conversations a page down to 1 (7 calls answered code 1), then plain.
    expect(calls).toBe(perMessageCalls(sandbox) + 7);
    expect(summary.hydration.fallback?.reason).toMatch(/code_1_reduce_data/);
  });

  it('a page of conversations too large to expand in one answer is halved, and expansion goes on', async () => {
    const { sandbox, summary, calls } = await exportWith({ expansionMaxDetailed: 400 }, 'auto');
    expect(summary.hydration).toEqual({ strategy: 'expand', fallback: null });
    expect(calls).toBeLessThan(perMessageCalls(sandbox) / 5);
  });

  it('a cron run where several conversations got new messages costs 2 calls', async () => {
    const clock = new VirtualClock();
    const sandbox = await startSandbox({ seed: 92, conversations: 40, now: () => clock.now() });
    const out = await tempDir();
    await exportSandbox(sandbox, out, { run: { hydrate: 'auto' } }, { clock });
    clock.advance(3_600_000);
    const changed = [3, 11, 17, 29].map((i) => sandbox.data.conversations[i]!);
    const added = changed.flatMap((c, i) => {
      clock.advance(60_000);
      return sandbox.addMessages(c.id, 1 + i * 5);
    });
    const unsent = added.filter((m) => m.unsent).length;
    sandbox.resetStats();
    const delta = await exportSandbox(sandbox, out, { run: { hydrate: 'auto' } }, { clock });
    expect(delta.counts).toMatchObject({ messages: 34, hydrated: 34 - unsent, unavailable: unsent, lost: 0 });
    // The account and the first conversations page, which carries every changed conversation's new messages with
    // their details (plus the unsent ones, listed without details and read on their own to learn so).
    expect(sandbox.stats.requests).toHaveLength(2 + unsent);
  });
});
