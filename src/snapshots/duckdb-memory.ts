/**
 * DuckDB's memory limit: its default, and the error when the work does not fit in it. A module of its own, loading no
 * DuckDB: the CLI shows the default in its help and maps the error to an exit code at startup.
 */

/**
 * DuckDB's memory limit in MB unless the user sets another (`--duckdb-memory`): DuckDB spills to disk beyond it, and the
 * process peaks at about 400 MB more (the Parquet writer, Node). Folding 786,000 rows fits in it, with 2x to spare.
 */
export const DEFAULT_DUCKDB_MEMORY_MB = 256;

/**
 * DuckDB could not do the work within its memory limit, spilling included: the account's data outgrew the limit. The
 * message names the limit and what to do.
 */
export class DuckDbMemoryError extends Error {
  override name = 'DuckDbMemoryError';
  constructor(
    readonly limitMb: number,
    task: string,
    detail: string,
  ) {
    super(
      `${task} needs more memory than DuckDB's ${limitMb} MB limit (${detail}); ` +
        `run it again with --duckdb-memory ${limitMb * 4} (MB), and allow the process about 400 MB more than that`,
    );
  }
}
