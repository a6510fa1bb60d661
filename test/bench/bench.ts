import { parseArgs } from 'node:util';
import { callsBench } from './calls-bench.js';
import { compactBench } from './compact-bench.js';
import { dyiBench } from './dyi-bench.js';
import { fleetBench } from './fleet-bench.js';
import { rateBench } from './rate-bench.js';
import { startupBench } from './startup-bench.js';
import { writerBench } from './writer-bench.js';

/**
 * `npm run bench [-- writers|calls|rate|startup|fleet|dyi|compact] [--rows 1000000[,10000000]] [--rps 10] [--conversations 25]
 * [--accounts 10,50] [--messages 25000,100000]` (rate: once with
 * the sandbox limited to --rps, once to half of it, over 24 × --conversations): prints figures and
 * ratios, exits non-zero when a target is missed. Speed is measured here, never asserted inside tests.
 */
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rows: { type: 'string', default: '1000000' },
    rps: { type: 'string', default: '10' },
    conversations: { type: 'string', default: '25' },
    accounts: { type: 'string', default: '10,50' },
    messages: { type: 'string', default: '25000,100000' },
  },
});
const which = positionals[0] ?? 'all';
let ok = true;
if (which === 'all' || which === 'writers')
  ok = (await writerBench(values.rows.split(',').map(Number))) && ok;
if (which === 'all' || which === 'calls') ok = (await callsBench(Number(values.conversations) * 12)) && ok;
if (which === 'all' || which === 'rate') {
  const rps = Number(values.rps);
  // Enough calls to measure a rate (about 300 at the default 25 × 24 conversations); a dozen calls measure a start.
  const conversations = Number(values.conversations) * 24;
  ok = (await rateBench({ rps, limit: rps, namedBlock: true, conversations })) && ok;
  // The account's real limit is half of --max-rps and Meta names no wait: the pace must adapt within seconds.
  ok = (await rateBench({ rps, limit: rps / 2, namedBlock: false, conversations })) && ok;
}
if (which === 'all' || which === 'startup') ok = (await startupBench()) && ok;
// Not part of `all`: it needs the CLI bundle and takes a minute or more per fleet size.
if (which === 'fleet')
  ok = (await fleetBench(values.accounts.split(',').map(Number), Number(values.conversations))) && ok;
// Not part of `all` either: `npm run bench -- dyi` imports the sandbox's archive of 25k and 100k messages.
if (which === 'dyi') ok = (await dyiBench(values.messages.split(',').map(Number))) && ok;
// Nor this: `npm run bench -- compact` exports 2,000 conversations six times (about two minutes).
if (which === 'compact') ok = (await compactBench(2000, 5)) && ok;
process.exitCode = ok ? 0 : 1;
