import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mergeSettings, toExportOptions } from '../../src/cli/export-settings.js';
import { collectCustody } from '../../src/cli/custody.js';
import { systemClock } from '../../src/clock.js';
import type { Logger } from '../../src/logger.js';
import { runExport } from '../../src/pipeline/run-export.js';
import { createSandbox } from '../../src/sandbox/create-sandbox.js';

export interface RateScenario {
  /** --max-rps of the export. */
  rps: number;
  /** The sandbox account's real limit (calls/s). */
  limit: number;
  /** Meta-style: a throttle blocks the account and the reply names the wait; otherwise no wait is named. */
  namedBlock: boolean;
  conversations: number;
}

/**
 * Rate-limit bench: the sandbox throttles above `limit` calls/s (sliding one-second window); the export runs with
 * --max-rps `rps` in real time. Prints the achieved rate against the real limit, the share of throttled calls and
 * the longest pause. Targets: with the limit matched, ≥ 90 % of it (the budget's window, a second and 50 ms from the
 * answer of the call `windowCalls` back, alone leaves 95.2 % less a round trip) and no call throttled; with a real limit below
 * --max-rps and no wait named, no pause over a few seconds, most of the limit achieved, few calls throttled.
 */
export async function rateBench(s: RateScenario): Promise<boolean> {
  const sandbox = await createSandbox({
    seed: 99,
    conversations: s.conversations,
    maxMessagesPerConversation: 30,
    rateLimit: { callsPerSecond: s.limit, ...(s.namedBlock ? {} : { blockMs: 0 }) },
  });
  const out = await mkdtemp(join(tmpdir(), 'ig-export-bench-'));
  let longestPauseMs = 0;
  const record = (_m: string, fields?: Record<string, unknown>): void => {
    const waitMs = fields?.['waitMs'];
    if (typeof waitMs === 'number') longestPauseMs = Math.max(longestPauseMs, waitMs);
  };
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: record,
    error: () => undefined,
  };
  try {
    const started = performance.now();
    const settings = mergeSettings({}, { output: out, 'base-url': sandbox.url, 'max-rps': s.rps });
    const summary = await runExport(
      toExportOptions(settings, { token: sandbox.options.token, source: 'env' }),
      {
        clock: systemClock,
        random: Math.random,
        logger,
        toolVersion: 'bench',
        custody: collectCustody([], []),
      },
    );
    const seconds = (performance.now() - started) / 1000;
    const calls = sandbox.stats.requests.length;
    // The first call (account) starts the clock; N calls take (N - 1) intervals.
    const achieved = (calls - 1) / seconds;
    const share = achieved / s.limit;
    const throttledShare = sandbox.stats.throttled / calls;
    const matched = s.limit >= s.rps;
    const ok =
      summary.status === 'complete' &&
      (matched
        ? sandbox.stats.throttled === 0 && share >= 0.9
        : throttledShare < 0.03 && share >= 0.7 && longestPauseMs <= 5_000);
    console.log(
      [
        `rate limit: sandbox ${s.limit} calls/s (${s.namedBlock ? 'a throttle blocks for 60 s and says so' : 'no wait named'}), --max-rps ${s.rps}`,
        `  calls ${calls} in ${seconds.toFixed(1)} s: ${achieved.toFixed(2)} calls/s = ${(100 * share).toFixed(1)} % of the real limit (target ≥ ${matched ? 90 : 70} %)`,
        `  throttled ${sandbox.stats.throttled} = ${(100 * throttledShare).toFixed(2)} % (target ${matched ? '0' : '< 3 %'}), longest pause ${(longestPauseMs / 1000).toFixed(1)} s`,
        `  ${ok ? 'PASS' : 'FAIL'}`,
      ].join('\n'),
    );
    return ok;
  } finally {
    await sandbox.close();
    await rm(out, { recursive: true, force: true });
  }
}
