import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mergeSettings, toExportOptions } from '../../src/cli/export-settings.js';
import { systemClock } from '../../src/clock.js';
import { silentLogger } from '../../src/logger.js';
import type { HydrateMode } from '../../src/pipeline/hydration-strategy.js';
import { runExport } from '../../src/pipeline/run-export.js';
import { createSandbox } from '../../src/sandbox/create-sandbox.js';

/** One full export of a fixed-seed sandbox account; `rps` 0 = unpaced. */
async function exportOnce(
  conversations: number,
  hydrate: HydrateMode,
  rps: number,
): Promise<{ strategy: string; calls: number; rows: number; seconds: number }> {
  const sandbox = await createSandbox({ seed: 7, conversations, rateLimit: { callsPerSecond: rps } });
  const out = await mkdtemp(join(tmpdir(), 'ig-export-calls-'));
  try {
    const settings = mergeSettings(
      {},
      { output: out, 'base-url': sandbox.url, 'max-rps': rps || 1000, hydrate },
    );
    const started = performance.now();
    const summary = await runExport(
      toExportOptions(settings, { token: sandbox.options.token, source: 'env' }),
      {
        clock: systemClock,
        random: Math.random,
        logger: silentLogger,
        toolVersion: 'bench',
      },
    );
    return {
      strategy: summary.hydration.strategy,
      calls: summary.calls,
      rows: summary.counts.messages,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await sandbox.close();
    await rm(out, { recursive: true, force: true });
  }
}

/**
 * Calls bench: a full export of one fixed-seed, heavy-tailed sandbox account per hydration strategy, unpaced.
 * Prints the calls each one made, its ratio to per-message, and the time it would take at Meta's 2 calls/s; then,
 * on a smaller account against a sandbox limited to `rps`, the wall time against calls / rps.
 */
export async function callsBench(conversations: number, rps = 20): Promise<boolean> {
  const results = [];
  for (const hydrate of ['per-message', 'auto'] as HydrateMode[])
    results.push(await exportOnce(conversations, hydrate, 0));
  const base = results[0]?.calls ?? 1;
  console.log(`calls: full export of a ${conversations}-conversation sandbox account (seed 7)`);
  for (const r of results) {
    console.log(
      `  ${r.strategy.padEnd(12)} ${String(r.calls).padStart(7)} calls  ${(base / r.calls).toFixed(1).padStart(5)}× fewer than per-message` +
        `  ${(r.calls / 2 / 60).toFixed(1).padStart(6)} min at 2 calls/s  (${r.rows} message rows)`,
    );
  }
  const small = Math.max(10, Math.round(conversations / 10));
  console.log(`wall time: ${small} conversations, sandbox limited to ${rps} calls/s, --max-rps ${rps}`);
  for (const hydrate of ['per-message', 'auto'] as HydrateMode[]) {
    const r = await exportOnce(small, hydrate, rps);
    console.log(
      `  ${r.strategy.padEnd(12)} ${String(r.calls).padStart(7)} calls in ${r.seconds.toFixed(1)} s` +
        ` (calls / ${rps} = ${(r.calls / rps).toFixed(1)} s)`,
    );
  }
  return results.length === 2 && results[0]?.rows === results[1]?.rows;
}
