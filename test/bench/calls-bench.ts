import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mergeSettings, toExportOptions } from '../../src/cli/export-settings.js';
import { systemClock } from '../../src/clock.js';
import { silentLogger } from '../../src/logger.js';
import type { HydrateMode } from '../../src/pipeline/hydration-strategy.js';
import { runExport } from '../../src/pipeline/run-export.js';
import { createSandbox } from '../../src/sandbox/create-sandbox.js';

/**
 * Calls bench: a full export of one fixed-seed, heavy-tailed sandbox account per hydration strategy, unpaced.
 * Prints the calls each one made, its ratio to per-message, and the time it would take at Meta's 2 calls/s.
 */
export async function callsBench(conversations: number): Promise<boolean> {
  const results: Array<{ strategy: string; calls: number; rows: number }> = [];
  for (const hydrate of ['per-message', 'auto'] as HydrateMode[]) {
    const sandbox = await createSandbox({ seed: 7, conversations, rateLimit: { callsPerSecond: 0 } });
    const out = await mkdtemp(join(tmpdir(), 'ig-export-calls-'));
    try {
      const settings = mergeSettings({}, { output: out, 'base-url': sandbox.url, 'max-rps': 1000, hydrate });
      const summary = await runExport(
        toExportOptions(settings, { token: sandbox.options.token, source: 'env' }),
        {
          clock: systemClock,
          random: Math.random,
          logger: silentLogger,
          toolVersion: 'bench',
        },
      );
      results.push({
        strategy: summary.hydration.strategy,
        calls: summary.calls,
        rows: summary.counts.messages,
      });
    } finally {
      await sandbox.close();
      await rm(out, { recursive: true, force: true });
    }
  }
  const base = results[0]?.calls ?? 1;
  console.log(`calls: full export of a ${conversations}-conversation sandbox account (seed 7)`);
  for (const r of results) {
    console.log(
      `  ${r.strategy.padEnd(12)} ${String(r.calls).padStart(7)} calls  ${(base / r.calls).toFixed(1).padStart(5)}× fewer than per-message` +
        `  ${(r.calls / 2 / 60).toFixed(1).padStart(6)} min at 2 calls/s  (${r.rows} message rows)`,
    );
  }
  return results.length === 2 && results[0]?.rows === results[1]?.rows;
}
