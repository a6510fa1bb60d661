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
