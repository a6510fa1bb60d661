import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.js';
import { probeApi, PROBE_MAX_CALLS, type ProbeReport } from '../../src/pipeline/account-tools/api-probe.js';
import type { Sandbox, SandboxOverrides } from '../../src/sandbox/create-sandbox.js';
import { testClientOptions } from '../helpers/client-options.js';
import { startSandbox, TEST_TOKEN } from '../helpers/sandbox-fixture.js';
import { VirtualClock } from '../helpers/virtual-clock.js';

async function probe(overrides: SandboxOverrides): Promise<{ report: ProbeReport; sandbox: Sandbox }> {
  const sandbox = await startSandbox({ seed: 31, conversations: 30, ...overrides });
  const { clock, random, logger, ...client } = testClientOptions(sandbox.url);
  const report = await probeApi(
    { client, account: 'me', windowSize: 20 },
    { clock: new VirtualClock(), random, logger: silentLogger },
  );
  expect(report.calls).toBe(sandbox.stats.requests.length);
  expect(report.calls).toBeLessThanOrEqual(PROBE_MAX_CALLS);
  // No token, no message text, no raw id of a message, conversation, person or the account.
  const text = JSON.stringify(report);
  const secrets = [TEST_TOKEN, sandbox.data.account.userId, sandbox.data.account.username];
  for (const c of sandbox.data.conversations) {
    secrets.push(c.id, c.participant.id);
    for (const m of c.messages) {
      secrets.push(m.id);
      if (m.text.length >= 12) secrets.push(m.text);
    }
  }
  for (const s of secrets) expect(text).not.toContain(s);
  void clock;
  void logger;
  return { report, sandbox };
}

describe('ig-export probe reports what the server does, in at most 15 calls', () => {
  it('the guesses as the sandbox plays them by default', async () => {
    const { report } = await probe({});
    expect(report).toMatchObject({
      expansion: 'served',
      nestedPaging: 'edge',
      continuation: 'followed',
      beyondWindow: '100',
      withinWindow: 'served',
      userIdFilter: true,
      usageHeaders: ['x-app-usage', 'x-business-use-case-usage'],
      throttleCode: null,
    });
    expect(report.checks.every((c) => c.asGuessed)).toBe(true);
  });

  it.each([
    ['serve', 'served'],
    ['ignore', 'ignored'],
    ['refuse', 'refused'],
  ] as const)('expansion %s: %s', async (expansion, seen) => {
    const { report } = await probe({ expansion });
    expect(report.expansion).toBe(seen);
    // Whatever the expansion did, the paging form and the window are still found.
    expect(report.nestedPaging).toBe('edge');
    expect(report.beyondWindow).toBe('100');
  });

  it.each(['edge', 'node', 'until', 'cursors'] as const)('paging links %s', async (pagingLinks) => {
    const { report } = await probe({ pagingLinks });
    expect(report.nestedPaging).toBe(pagingLinks);
    expect(report.continuation).toBe('followed');
    expect(report.beyondWindow).toBe('100');
  });

  it('a refused messages edge, a user_id the server ignores, no usage headers, another "deleted" code', async () => {
    const { report } = await probe({
      messagesEdge: 'refuse',
      userIdFilter: 'ignore',
      usageHeaders: false,
      deletedErrorCode: 10,
      deletedErrorSubcode: 2534022,
    });
    expect(report).toMatchObject({
      continuation: 'refused',
      userIdFilter: false,
      usageHeaders: [],
      beyondWindow: '10/2534022',
    });
    expect(report.checks.filter((c) => !c.asGuessed).map((c) => c.check)).toEqual([
      'following that link for ids only, 100 a page',
      'user_id narrows the conversation listing to one person',
      'usage headers on conversation calls',
    ]);
  });

  it('the largest page served, when a list is long enough to tell', async () => {
    const { report } = await probe({ maxLimit: 50, conversations: 3, messageCounts: [400, 400, 400] });
    expect(report.largestPage).toBe(50);
    expect(report.checks.find((c) => c.check === 'largest page of message ids served')?.asGuessed).toBe(
      false,
    );
  });
});
