/** How Parquet files are written (a module of its own: the CLI reads the defaults without loading the encoder). */
export type ParquetCompression = 'zstd' | 'snappy' | 'gzip' | 'none';

export interface ParquetWriterOptions {
  compression: ParquetCompression;
  /** Rows per row group: ~10 per million rows keeps DuckDB's pruning and parallel scan effective. */
  rowGroupSize: number;
  /**
   * Rows per Arrow batch handed to the encoder; bounds memory. 1,024 rather than 4,096: the rows and column buffers
   * alive at once are fewer, so V8 lets the heap grow less between full collections. Measured in alternated runs
   * (2026-12-03): peak RSS 177 MB instead of 201 at 1M rows and 200 instead of 217 at 10M, and the writer no slower.
   */
  batchSize: number;
}

export const DEFAULT_PARQUET_OPTIONS: ParquetWriterOptions = {
  compression: 'zstd',
  rowGroupSize: 122_880,
  batchSize: 1_024,
};
