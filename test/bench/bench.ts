import { parseArgs } from 'node:util';
import { rateBench } from './rate-bench.js';

/**
 * `npm run bench [-- rate|parquet] [--rps N] [--conversations N] [--rows N]`: prints figures and ratios.
 * Speed is measured here, never asserted inside tests.
 */
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rps: { type: 'string', default: '10' },
    conversations: { type: 'string', default: '25' },
  },
});
const which = positionals[0] ?? 'all';
let ok = true;
if (which === 'all' || which === 'rate')
  ok = (await rateBench(Number(values.rps), Number(values.conversations))) && ok;
process.exitCode = ok ? 0 : 1;
