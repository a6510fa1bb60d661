import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import * as A from 'apache-arrow';
import * as W from 'parquet-wasm';
import type { Column } from '../schema/tables.js';
import { arrowSchema, buildRecordBatch } from './arrow-batch.js';
import type { TableWriter } from './table-writer.js';

export type ParquetCompression = 'zstd' | 'snappy' | 'gzip' | 'none';

export interface ParquetWriterOptions {
  compression: ParquetCompression;
  /** Rows per row group: ~10 per million rows keeps DuckDB's pruning and parallel scan effective. */
  rowGroupSize: number;
  /** Rows per Arrow batch handed to the encoder; bounds memory. */
  batchSize: number;
}

export const DEFAULT_PARQUET_OPTIONS: ParquetWriterOptions = {
  compression: 'zstd',
  rowGroupSize: 122_880,
  batchSize: 16_384,
};

const CODECS: Record<ParquetCompression, W.Compression> = {
  zstd: W.Compression.ZSTD,
  snappy: W.Compression.SNAPPY,
  gzip: W.Compression.GZIP,
  none: W.Compression.UNCOMPRESSED,
};

/**
 * Streaming Parquet through apache-arrow and parquet-wasm (arrow-rs): row groups are written as rows arrive, so
 * memory stays flat however large the export. arrow-rs writes UTF-8 min/max statistics in byte order, which
 * parquetjs-lite gets wrong (see README, "Parquet writer").
 */
export function createParquetWriter<Row extends object>(
  path: string,
  columns: readonly Column[],
  options: ParquetWriterOptions = DEFAULT_PARQUET_OPTIONS,
): TableWriter<Row> {
  const schema = arrowSchema(columns);
  const props = new W.WriterPropertiesBuilder()
    .setCompression(CODECS[options.compression])
    .setMaxRowGroupSize(options.rowGroupSize)
    .setCreatedBy('ig-export (parquet-wasm / arrow-rs)')
    .build();

  let controller!: ReadableStreamDefaultController<W.RecordBatch>;
  let wantMore: (() => void) | undefined;
  const batches = new ReadableStream<W.RecordBatch>(
    {
      start: (c) => {
        controller = c;
      },
      pull: () => {
        wantMore?.();
        wantMore = undefined;
      },
    },
    { highWaterMark: 1 },
  );
  const done = W.transformParquetStream(batches, props).then((bytes) =>
    pipeline(
      Readable.fromWeb(bytes as WebReadableStream<Uint8Array>),
      createWriteStream(path, { flags: 'wx' }),
    ),
  );
  done.catch(() => undefined); // surfaced by close()

  let pending: Record<string, unknown>[] = [];
  let rows = 0;

  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const batch = buildRecordBatch(schema, columns, pending);
    pending = [];
    const table = W.Table.fromIPCStream(A.tableToIPC(new A.Table(batch), 'stream'));
    for (const b of table.recordBatches()) controller.enqueue(b);
    table.free();
    while ((controller.desiredSize ?? 1) <= 0) {
      await new Promise<void>((resolve) => {
        wantMore = resolve;
      });
    }
  };

  return {
    async write(row) {
      pending.push(row as Record<string, unknown>);
      rows++;
      if (pending.length >= options.batchSize) await flush();
    },
    async close() {
      // An empty table still needs its schema in the file: parquet-wasm cannot finish a stream without a batch.
      if (rows === 0) {
        const table = W.Table.fromIPCStream(
          A.tableToIPC(new A.Table(buildRecordBatch(schema, columns, [])), 'stream'),
        );
        const [empty] = table.recordBatches();
        if (empty) controller.enqueue(empty);
        table.free();
      }
      await flush();
      controller.close();
      await done;
      return { rows };
    },
    async abort() {
      try {
        controller.error(new Error('aborted'));
      } catch {
        // already closed or errored: nothing left to stop
      }
      await done.catch(() => undefined);
    },
  };
}
