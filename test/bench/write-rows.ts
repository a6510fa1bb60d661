import { parseArgs } from 'node:util';
import { MESSAGE_COLUMNS, type MessageRow } from '../../src/schema/tables.js';
import { createNdjsonWriter } from '../../src/writers/ndjson-writer.js';
import { createParquetWriter, DEFAULT_PARQUET_OPTIONS } from '../../src/writers/parquet-writer.js';
import { tierUpWasmLater } from '../../src/writers/wasm-tiering.js';
import { generateRows } from './generate-rows.js';

/**
 * One benchmark measurement in its own process (so its peak RSS is its own): writes `--rows` generated rows with
 * one writer, or converts an NDJSON file with DuckDB's COPY, and prints one JSON line of figures.
 */
const { values } = parseArgs({
  options: {
    writer: { type: 'string' },
    rows: { type: 'string' },
    out: { type: 'string' },
    from: { type: 'string' },
  },
});
// As the CLI runs the writers.
tierUpWasmLater();
const rows = Number(values.rows);
const out = values.out ?? '';
const started = performance.now();
let written = rows;
if (values.writer === 'generate') {
  let n = 0;
  for (const r of generateRows(rows)) n += r.position;
  if (n < 0) throw new Error('unreachable');
} else if (values.writer === 'ndjson' || values.writer === 'parquet') {
  const writer =
    values.writer === 'ndjson'
      ? createNdjsonWriter<MessageRow>(out, MESSAGE_COLUMNS)
      : createParquetWriter<MessageRow>(out, MESSAGE_COLUMNS, DEFAULT_PARQUET_OPTIONS);
  for (const r of generateRows(rows)) await writer.write(r);
  written = (await writer.close()).rows;
} else if (values.writer === 'duckdb') {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:', { threads: '2' });
  const c = await db.connect();
  const columns = MESSAGE_COLUMNS.map((col) => {
    const t = {
      string: 'VARCHAR',
      int32: 'INTEGER',
      boolean: 'BOOLEAN',
      timestamp: 'TIMESTAMPTZ',
      string_list: 'VARCHAR[]',
      json: 'JSON',
    }[col.type];
    return `${col.name}: '${t}'`;
  }).join(', ');
  await c.run(
    `COPY (SELECT * FROM read_json('${values.from ?? ''}', format = 'newline_delimited', columns = {${columns}}))
     TO '${out}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)`,
  );
  c.closeSync();
  db.closeSync();
} else {
  throw new Error(`unknown --writer ${values.writer ?? ''}`);
}
const seconds = (performance.now() - started) / 1000;
console.log(
  JSON.stringify({
    writer: values.writer,
    rows: written,
    seconds,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  }),
);
