/** How Parquet files are written (a module of its own: the CLI reads the defaults without loading the encoder). */
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
  batchSize: 4_096,
};
