/** Documented exit codes (README, "Exit codes"). Only the CLI maps outcomes to them. */
export const ExitCode = {
  /** The snapshot is complete. */
  Ok: 0,
  /** Anything unexpected. */
  Error: 1,
  /** Bad flags, config file or missing token. */
  Usage: 2,
  /** The token or its permissions were refused (Graph 190, 102, 10, 200–299). */
  Auth: 3,
  /** A snapshot was published but some items failed after retries, or the run was stopped; the manifest says which. */
  Partial: 4,
  /** Another run holds the account's lock. */
  Locked: 5,
} as const;

/** A usage or configuration problem, shown without a stack trace, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
