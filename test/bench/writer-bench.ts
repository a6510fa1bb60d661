import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

interface Measurement {
  writer: string;
  rows: number;
  seconds: number;
  peakRssMb: number;
}

const WRITE_ROWS = fileURLToPath(new URL('./write-rows.js', import.meta.url));
const PARQUET_RUNS = 3;

const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1]!;

async function measure(args: string[]): Promise<Measurement> {
  const { stdout } = await promisify(execFile)(process.execPath, [WRITE_ROWS, ...args], {
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Measurement;
}

/**
 * Writer bench (issue #5): `rows` generated message rows through each writer, each in its own process so its peak
 * RSS is its own; DuckDB's COPY of the same NDJSON to Parquet (ZSTD) is the baseline of the same run.
 * Targets: Parquet ≥ 100k rows/s, ≥ 0.5× DuckDB's rate, peak RSS ≤ 300 MB (and within 10 % of that at 10M rows).
 * Parquet's time and peak RSS are the median of three runs of each size.
 */
export async function writerBench(rowCounts: readonly number[]): Promise<boolean> {
  const dir = await mkdtemp(join(tmpdir(), 'ig-export-writer-bench-'));
  let ok = true;
  const rss: number[] = [];
  try {
    for (const rows of rowCounts) {
      const n = String(rows);
      const generate = await measure(['--writer', 'generate', '--rows', n]);
      const ndjson = await measure(['--writer', 'ndjson', '--rows', n, '--out', join(dir, `m${n}.ndjson`)]);
      // Parquet's figures are the median of three runs: a single run's peak moves by ±10 MB on a shared host.
      const runs: Measurement[] = [];
      for (let i = 0; i < PARQUET_RUNS; i++) {
        const out = join(dir, `m${n}-${i}.parquet`);
        runs.push(await measure(['--writer', 'parquet', '--rows', n, '--out', out]));
        await rm(out, { force: true });
      }
      const parquet = {
        ...runs[0]!,
        seconds: median(runs.map((r) => r.seconds)),
        peakRssMb: median(runs.map((r) => r.peakRssMb)),
      };
      const duckdb = await measure([
        '--writer',
        'duckdb',
        '--rows',
        n,
        '--from',
        join(dir, `m${n}.ndjson`),
        '--out',
        join(dir, `d${n}.parquet`),
      ]);
      await rm(join(dir, `m${n}.ndjson`), { force: true });
      await rm(join(dir, `d${n}.parquet`), { force: true });
      const rate = (m: Measurement, minus = 0): number => m.rows / Math.max(1e-9, m.seconds - minus);
      const line = (m: Measurement, note = ''): string =>
        `  ${m.writer.padEnd(8)} ${m.seconds.toFixed(2).padStart(7)} s ${Math.round(rate(m)).toLocaleString('en').padStart(11)} rows/s  peak RSS ${Math.round(m.peakRssMb).toString().padStart(4)} MB${note}`;
      const ratio = rate(parquet) / rate(duckdb);
      const ratioExGen = rate(parquet, generate.seconds) / rate(duckdb);
      console.log(
        `writers, ${rows.toLocaleString('en')} message rows (times include generating the rows: ${generate.seconds.toFixed(2)} s)`,
      );
      console.log(line(ndjson));
      console.log(
        line(
          parquet,
          `  = ${ratio.toFixed(2)}x DuckDB's rate (${ratioExGen.toFixed(2)}x without row generation)`,
        ),
      );
      console.log(
        `           median of ${PARQUET_RUNS} runs: ${runs.map((r) => `${r.seconds.toFixed(1)} s ${Math.round(r.peakRssMb)} MB`).join(', ')}`,
      );
      console.log(line(duckdb, '  (COPY from the NDJSON, 2 threads, ZSTD: the baseline)'));
      // Like for like: DuckDB converts data that already exists, so the rows' generation is not charged to our writer.
      const pass = rate(parquet) >= 100_000 && ratioExGen >= 0.5 && parquet.peakRssMb <= 300;
      console.log(
        `  ${pass ? 'PASS' : 'FAIL'}: Parquet ≥ 100k rows/s, ≥ 0.5x DuckDB (without row generation), peak RSS ≤ 300 MB`,
      );
      ok &&= pass;
      rss.push(parquet.peakRssMb);
    }
    if (rss.length > 1) {
      const growth = Math.max(...rss) / Math.min(...rss) - 1;
      const pass = growth <= 0.1;
      console.log(
        `  peak RSS (median) grew ${(100 * growth).toFixed(1)} % from the smallest to the largest run: ${pass ? 'PASS' : 'FAIL'} (≤ 10 %)`,
      );
      ok &&= pass;
    }
    return ok;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
