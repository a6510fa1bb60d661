import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mergeSettings, toExportOptions } from '../../src/cli/export-settings.js';
import { systemClock } from '../../src/clock.js';
import { silentLogger } from '../../src/logger.js';
import { runExport } from '../../src/pipeline/run-export.js';
import { createSandbox } from '../../src/sandbox/create-sandbox.js';

/**
 * Rate-limit bench (issue #3): the sandbox throttles above N calls/s (sliding one-second window, Meta-style block
 * after a throttle); the export runs with --max-rps N in real time. Prints the achieved rate and the share of
 * throttled calls. Target: fewer than 1 % throttled and at least 90 % of N.
 */
export async function rateBench(rps: number, conversations: number): Promise<boolean> {
  const sandbox = await createSandbox({
    seed: 99,
    conversations,
    maxMessagesPerConversation: 30,
    rateLimit: { callsPerSecond: rps },
  });
  const out = await mkdtemp(join(tmpdir(), 'ig-export-bench-'));
  try {
    const started = performance.now();
    const settings = mergeSettings({}, { output: out, 'base-url': sandbox.url, 'max-rps': rps });
    const summary = await runExport(
      toExportOptions(settings, { token: sandbox.options.token, source: 'env' }),
      { clock: systemClock, random: Math.random, logger: silentLogger, toolVersion: 'bench' },
    );
    const seconds = (performance.now() - started) / 1000;
    const calls = sandbox.stats.requests.length;
    // The first call (account) starts the clock; N calls take (N - 1) intervals.
    const achieved = (calls - 1) / seconds;
    const throttledShare = sandbox.stats.throttled / calls;
    const ok = throttledShare < 0.01 && achieved >= 0.9 * rps && summary.status === 'complete';
    console.log(
      [
        `rate limit: sandbox ${rps} calls/s, --max-rps ${rps}`,
        `  calls ${calls} in ${seconds.toFixed(1)} s: ${achieved.toFixed(2)} calls/s = ${((100 * achieved) / rps).toFixed(1)} % of the limit (target ≥ 90 %)`,
        `  throttled ${sandbox.stats.throttled} = ${(100 * throttledShare).toFixed(2)} % (target < 1 %)`,
        `  ${ok ? 'PASS' : 'FAIL'}`,
      ].join('\n'),
    );
    return ok;
  } finally {
    await sandbox.close();
    await rm(out, { recursive: true, force: true });
  }
}
