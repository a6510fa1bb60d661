import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mergeSettings, toExportOptions } from '../../src/cli/export-settings.js';
import { collectCustody } from '../../src/cli/custody.js';
import { systemClock } from '../../src/clock.js';
import { silentLogger } from '../../src/logger.js';
import type { HydrateMode } from '../../src/pipeline/hydration-strategy.js';
import { MESSAGE_FIELDS } from '../../src/graph/conversations-api.js';
import { runExport } from '../../src/pipeline/run-export.js';
import { createSandbox } from '../../src/sandbox/create-sandbox.js';

/** One full export of a fixed-seed sandbox account; `rps` 0 = unpaced. */
async function exportOnce(conversations: number, hydrate: HydrateMode, rps: number): Promise<StrategyRun> {
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
        custody: collectCustody([], []),
      },
    );
    return {
      strategy: summary.hydration.strategy === 'expand' ? 'nested listing' : summary.hydration.strategy,
      calls: summary.calls,
      rows: summary.counts.messages,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await sandbox.close();
    await rm(out, { recursive: true, force: true });
  }
}

interface GraphPage {
  data?: Array<{ id: string }>;
  messages?: GraphPage;
  paging?: { next?: string; cursors?: { after?: string } };
}

interface StrategyRun {
  strategy: string;
  calls: number;
  rows: number;
  seconds: number;
}

/**
 * The calls of the strategy ig-export does not ship: expansion on each conversation node
 * (`/<conversation_id>?fields=messages.limit(20){…}`) after a plain listing, then the older message ids 100 per
 * call. Walked here with bare requests against the same sandbox account, to measure it beside the two that ship.
 */
async function perConversationNodeCalls(conversations: number): Promise<StrategyRun> {
  const sandbox = await createSandbox({ seed: 7, conversations, rateLimit: { callsPerSecond: 0 } });
  const get = async (pathOrUrl: string, query: Record<string, string> = {}): Promise<GraphPage> => {
    const url = new URL(pathOrUrl, `${sandbox.url}/v23.0/`);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const res = await fetch(url, { headers: { authorization: `Bearer ${sandbox.options.token}` } });
    if (!res.ok) throw new Error(`${url.pathname}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as GraphPage;
  };
  try {
    const started = performance.now();
    let rows = 0;
    await get('me', { fields: 'id,username' });
    let next: string | undefined = 'me/conversations';
    let query: Record<string, string> = { platform: 'instagram', fields: 'id,updated_time', limit: '100' };
    while (next !== undefined) {
      const page: GraphPage = await get(next, query);
      query = {};
      for (const c of page.data ?? []) {
        const node = await get(c.id, { fields: `messages.limit(20){${MESSAGE_FIELDS}}` });
        rows += node.messages?.data?.length ?? 0;
        let after =
          node.messages?.paging?.next === undefined ? undefined : node.messages.paging.cursors?.after;
        while (after !== undefined) {
          const older = await get(`${c.id}/messages`, { fields: 'id,created_time', limit: '100', after });
          rows += older.data?.length ?? 0;
          after = older.paging?.next === undefined ? undefined : older.paging.cursors?.after;
        }
      }
      next = page.paging?.next;
    }
    return {
      strategy: 'conversation node',
      calls: sandbox.stats.requests.length,
      rows,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await sandbox.close();
  }
}

/**
 * Calls bench: a full export of one fixed-seed, heavy-tailed sandbox account per hydration strategy, unpaced.
 * Prints the calls each one made, its ratio to per-message, and the time it would take at Meta's 2 calls/s; then,
 * on a smaller account against a sandbox limited to `rps`, the wall time against calls / rps.
 */
export async function callsBench(conversations: number, rps = 20): Promise<boolean> {
  const results: StrategyRun[] = [];
  results.push(await exportOnce(conversations, 'per-message', 0));
  results.push(await perConversationNodeCalls(conversations));
  results.push(await exportOnce(conversations, 'auto', 0));
  const base = results[0]?.calls ?? 1;
  console.log(`calls: full export of a ${conversations}-conversation sandbox account (seed 7)`);
  for (const r of results) {
    console.log(
      `  ${r.strategy.padEnd(17)} ${String(r.calls).padStart(7)} calls  ${(base / r.calls).toFixed(1).padStart(5)}× fewer than per-message` +
        `  ${(r.calls / 2 / 60).toFixed(1).padStart(6)} min at 2 calls/s  (${r.rows} message rows)`,
    );
  }
  const small = Math.max(10, Math.round(conversations / 10));
  console.log(`wall time: ${small} conversations, sandbox limited to ${rps} calls/s, --max-rps ${rps}`);
  for (const hydrate of ['per-message', 'auto'] as HydrateMode[]) {
    const r = await exportOnce(small, hydrate, rps);
    console.log(
      `  ${r.strategy.padEnd(17)} ${String(r.calls).padStart(7)} calls in ${r.seconds.toFixed(1)} s` +
        ` (calls / ${rps} = ${(r.calls / rps).toFixed(1)} s)`,
    );
  }
  return results.length === 3 && results.every((r) => r.rows === results[0]?.rows);
}
