import { totalmem } from 'node:os';
import { UsageError } from './exit-codes.js';

/** A numeric flag's allowed values. */
export interface Range {
  min: number;
  max: number;
  integer?: boolean;
}

export const PORT: Range = { min: 0, max: 65_535, integer: true };

/** `--duckdb-memory`, in MB: 16 MB to 1 TB. */
export const DUCKDB_MEMORY_MB: Range = { min: 16, max: 1_048_576, integer: true };

/**
 * A numeric flag checked at the edge: yargs turns `abc` into NaN, and NaN or an out-of-range value would switch a
 * safety off further in (no body limit, an unpaced run, a port the OS refuses). The message names the flag and the
 * range, never echoing a value that is not a number.
 */
export function inRange(flag: string, value: number, range: Range): number {
  const ok =
    Number.isFinite(value) &&
    value >= range.min &&
    value <= range.max &&
    (range.integer !== true || Number.isInteger(value));
  if (ok) return value;
  const kind = range.integer === true ? 'a whole number' : 'a number';
  const got = Number.isFinite(value) ? ` (got ${value})` : ' (got something that is not a number)';
  throw new UsageError(`--${flag} must be ${kind} from ${range.min} to ${range.max}${got}`);
}

/** The memory this process may use, in MB: the machine's, or its container's (cgroup) limit when lower. */
function availableMemoryMb(): number {
  const constrained = process.constrainedMemory();
  const bytes = constrained > 0 ? Math.min(constrained, totalmem()) : totalmem();
  return Math.floor(bytes / 1024 / 1024);
}

/**
 * `--duckdb-memory` checked: in range, and a warning (not an error: swap may cover it) when it is more than this
 * machine or container has, where DuckDB would not spill to disk before the system stopped the process.
 */
export function checkDuckDbMemory(mb: number): void {
  inRange('duckdb-memory', mb, DUCKDB_MEMORY_MB);
  const available = availableMemoryMb();
  if (mb > available)
    process.stderr.write(
      `ig-export: --duckdb-memory ${mb} is more than the ${available} MB this machine (or container) has: ` +
        'DuckDB would not spill to disk before the system stopped the process; give less than that\n',
    );
}
