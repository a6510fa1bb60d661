import { describe, expect, it } from 'vitest';
import type { Sandbox, SandboxOverrides } from '../../src/sandbox/create-sandbox.js';
import { exportSandbox, tempDir } from '../helpers/export-options.js';
import { expectSnapshotEqualsSandbox } from '../helpers/expected-rows.js';
import { startSandbox } from '../helpers/sandbox-fixture.js';

type Hydrate = 'auto' | 'per-message';

/** Calls of the list pages after the first one of a conversation of `n` messages, first page size `first`. */
function restPages(n: number, first: number, nextGiven: boolean): number {
  if (n < first) return 0;
  // Without `next` links a full page is continued by cursor: one call more when the list ends on a full page.
  return nextGiven ? Math.ceil((n - first) / 100) : Math.floor((n - first) / 100) + 1;
}

/** The calls of a full export: account, conversation pages, message-id pages, and the detail reads needed. */
function expectedCalls(sandbox: Sandbox, hydrate: Hydrate, nextGiven: boolean): number {
  const c = sandbox.data.conversations;
  const listing = 1 + Math.max(1, Math.ceil(c.length / 100));
  return c.reduce((a, x) => {
    const n = x.messages.length;
    if (n === 0) return a; // not listed
    if (hydrate === 'per-message') return a + 1 + restPages(n, 100, nextGiven) + Math.min(20, n);
    // The listing carries each window; an unsent message in it is read on its own to learn it is unavailable.
    return a + restPages(n, 20, nextGiven) + x.messages.slice(0, 20).filter((m) => m.unsent).length;
  }, listing);
}

async function exportWith(overrides: SandboxOverrides, hydrate: Hydrate) {
  const sandbox = await startSandbox({
    seed: 44,
    conversations: 30,
    // Windows and pages that end exactly full, short, one over, and long lists.
    messageCounts: [20, 120, 220, 100, 21, 19, 1, 650, 101, 0],
    unsentRate: 0.03,
    ...overrides,
  });
  const summary = await exportSandbox(sandbox, await tempDir(), { run: { hydrate } });
  expect(summary.status).toBe('complete');
  expect(summary.manifest?.failures).toEqual([]);
  await expectSnapshotEqualsSandbox(summary.snapshotDir!, sandbox);
  return { sandbox, summary, calls: sandbox.stats.requests.length };
}

describe('message lists continue whatever form their paging links take', () => {
  it.each([
    ['edge', 'auto'],
    ['edge', 'per-message'],
    ['node', 'auto'],
    ['node', 'per-message'],
    ['until', 'auto'],
    ['until', 'per-message'],
  ] as const)('%s links, hydration %s: the exact rows, the minimum calls', async (pagingLinks, hydrate) => {
    const { sandbox, summary, calls } = await exportWith({ pagingLinks }, hydrate);
    expect(calls).toBe(expectedCalls(sandbox, hydrate, true));
    expect(summary.hydration.paging).toBeUndefined(); // no fallback was needed
    // A node link is followed with its nested field rewritten, never its fields replaced.
    if (pagingLinks === 'node') {
      const continued = sandbox.stats.requests.filter((r) => r.path.includes('after='));
      expect(continued.length).toBeGreaterThan(0);
      for (const r of continued) expect(decodeURIComponent(r.path)).toMatch(/fields=messages/);
    }
  });

  it.each(['auto', 'per-message'] as const)(
    'cursors without next links, hydration %s: full pages are continued by cursor, nothing is cut short',
    async (hydrate) => {
      const { sandbox, summary, calls } = await exportWith({ pagingLinks: 'cursors' }, hydrate);
      expect(calls).toBe(expectedCalls(sandbox, hydrate, false));
      expect(summary.hydration.paging).toEqual({
        continuation: 'cursors',
        fallback: { reason: 'message lists come with cursors but no next link' },
      });
    },
  );

  it.each(['auto', 'per-message'] as const)(
    'a refused edge link, hydration %s: refused once per list in flight, then every list by cursor for the rest of the run',
    async (hydrate) => {
      const { sandbox, summary, calls } = await exportWith({ messagesEdge: 'refuse' }, hydrate);
      // Lists in flight when the first link was refused (up to the conversation concurrency, 4) meet it too.
      const refusedCalls = sandbox.stats.requests.filter((r) => r.endpoint === 'messages' && r.code === 100);
      expect(refusedCalls.length).toBeGreaterThanOrEqual(1);
      expect(refusedCalls.length).toBeLessThanOrEqual(4);
      expect(calls).toBe(expectedCalls(sandbox, hydrate, true) + refusedCalls.length);
      expect(summary.hydration.paging).toEqual({
        continuation: 'cursors',
        fallback: { reason: "a message list's next link was refused (code_100)" },
      });
      expect(summary.manifest?.hydration?.paging?.continuation).toBe('cursors');
    },
  );
});
