import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSandboxFleet, fleetToken } from '../../src/sandbox/sandbox-fleet.js';
import { writeFleetConfig } from '../helpers/fleet-config.js';
import { runSampled } from './process-sample.js';

const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url));
/** Meta's limit per account; a throttle blocks the account for a minute, as Meta does. */
const LIMIT = 2;
/** The pace of the fleet config, as an agency would set it. */
const MAX_RPS = 1.8;
/** The CLI's cap on `--account-concurrency`. */
const MAX_CONCURRENCY = 1000;

interface FleetRun {
  code: number | null;
  stdout: string;
  wall: number;
  peak: { rssMb: number; fds: number; cpuSeconds: number };
  /** The calls of each account, as the sandbox counted them. */
  calls: number[];
  throttled: number;
}

/** One `ig-export export --config` over n sandbox accounts of `conversations` each, all at once (up to the cap). */
async function runFleet(n: number, conversations: number): Promise<FleetRun> {
  const fleet = await createSandboxFleet(
    Array.from({ length: n }, () => ({
      conversations,
      maxMessagesPerConversation: 30,
      rateLimit: { callsPerSecond: LIMIT },
    })),
  );
  const dir = await mkdtemp(join(tmpdir(), 'ig-export-fleet-bench-'));
  try {
    const config = await writeFleetConfig(
      dir,
      fleet,
      { 'max-rps': MAX_RPS, 'account-concurrency': Math.min(n, MAX_CONCURRENCY) },
      { name: (i) => `shop${i + 1}`, tokenEnv: (i) => `IG_FLEET_TOKEN_${i + 1}` },
    );
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (let i = 1; i <= n; i++) env[`IG_FLEET_TOKEN_${i}`] = fleetToken(i);
    const run = await runSampled([CLI, 'export', '--config', config, '--json', '--log-level', 'error'], env);
    return {
      ...run,
      calls: fleet.accounts.map((s) => s.stats.requests.length),
      throttled: fleet.accounts.filter((s) => s.stats.throttled > 0).length,
    };
  } finally {
    await fleet.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Fleet bench: one `ig-export export --config` over N accounts of the multi-account sandbox (each limited to 2 calls
 * per second, a throttle blocking it for 60 s), all at once (up to 1,000), paced at 1.8 calls/s each. The sandbox runs
 * in this process, so the machine's two cores serve both sides, as in the measurements. Prints the wall time
 * against the ideal (the busiest account's calls at 1.8/s), the accounts throttled, peak RSS, open files and CPU per
 * account; then the same fleet with one conversation per account, whose CPU per account is the fixed cost of an
 * account (start, state, snapshot, publish) with next to no work. Targets (issue #22): for 50 accounts, wall ≤ 1.5 ×
 * ideal + 15 s and peak RSS ≤ 750 MB; for 500, wall ≤ 1.5 × ideal + 60 s, 5.3 GB and 1,800 open files; at every
 * size, no account throttled and a fixed cost of at most 100 ms of CPU per account.
 */
export async function fleetBench(accountCounts: readonly number[], conversations: number): Promise<boolean> {
  let ok = true;
  for (const n of accountCounts) {
    const { code, stdout, wall, peak, calls, throttled } = await runFleet(n, conversations);
    const fixed = await runFleet(n, 1);
    const fixedMs = (1000 * fixed.peak.cpuSeconds) / n;
    const busiest = Math.max(...calls);
    // Accounts run in waves of the concurrency; each wave takes at least its busiest account's calls at 1.8/s.
    const ideal = ((busiest - 1) / MAX_RPS) * Math.ceil(n / MAX_CONCURRENCY);
    const fleetLine = stdout.trim().split('\n').pop() ?? '';
    const large = n >= 500;
    const slack = large ? 60 : 15;
    const limits = large
      ? { rss: 5300, fds: 1800, text: ', peak RSS ≤ 5.3 GB, open files ≤ 1,800' }
      : n <= 50
        ? { rss: 750, fds: Infinity, text: ', peak RSS ≤ 750 MB' }
        : { rss: Infinity, fds: Infinity, text: '' };
    const pass =
      code === 0 &&
      fixed.code === 0 &&
      wall <= 1.5 * ideal + slack &&
      throttled === 0 &&
      fixed.throttled === 0 &&
      peak.rssMb <= limits.rss &&
      peak.fds <= limits.fds &&
      fixedMs <= 100;
    console.log(
      [
        `fleet: ${n} accounts, ${Math.min(n, MAX_CONCURRENCY)} at once, ${conversations} conversations each, --max-rps ${MAX_RPS} (sandbox limit ${LIMIT}/s, a throttle blocks for 60 s)`,
        `  exit ${code}, wall ${wall.toFixed(1)} s against an ideal of ${ideal.toFixed(1)} s (busiest account: ${busiest} calls) = ${(wall / ideal).toFixed(2)}x`,
        `  accounts throttled ${throttled} of ${n}; peak RSS ${Math.round(peak.rssMb)} MB (${(peak.rssMb / n).toFixed(1)} MB per account); open files ${peak.fds}`,
        `  CPU ${peak.cpuSeconds.toFixed(1)} s (at least; sampled every 0.2 s) = ${((1000 * peak.cpuSeconds) / n).toFixed(0)} ms per account`,
        `  fixed cost: the same fleet with 1 conversation each: exit ${fixed.code}, CPU ${fixed.peak.cpuSeconds.toFixed(1)} s = ${fixedMs.toFixed(0)} ms per account, ${fixed.throttled} throttled`,
        `  ${pass ? 'PASS' : 'FAIL'}: exit 0, wall ≤ 1.5 × ideal + ${slack} s, no account throttled${limits.text}, fixed CPU ≤ 100 ms per account`,
        ...(code === 0 ? [] : [`  last line: ${fleetLine.slice(0, 300)}`]),
      ].join('\n'),
    );
    ok &&= pass;
  }
  return ok;
}
