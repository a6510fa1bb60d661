/** Documented exit codes (README, "Exit codes"). Only the CLI maps outcomes to them. */
export const ExitCode = {
  /** The snapshot is complete (or nothing changed and none was needed). */
  Ok: 0,
  /** Anything unexpected (a bug). */
  Error: 1,
  /** Bad flags, config file, missing token, an account the token cannot read. */
  Usage: 2,
  /** The token or its permissions were refused (Graph 190, 102, 10, 200–299). */
  Auth: 3,
  /** A snapshot was published but some items failed after retries, or the run was stopped; the manifest says which. */
  Partial: 4,
  /** Another run holds the account's lock. */
  Locked: 5,
  /** --fail-on-loss: the run was complete but message bodies fell out of the 20-message window since the last run. */
  WindowLoss: 6,
  /** The Graph API host could not be reached (DNS, refused, TLS, timeout) after the retries. */
  Network: 7,
  /** The output or state directory cannot be created or written. */
  Filesystem: 8,
  /**
   * `verify`: a snapshot is not what its manifest says (missing, altered, extra or truncated file, edited manifest);
   * any command: a snapshot it must read has a missing or invalid manifest.
   */
  VerifyFailed: 9,
  /** Stopped by SIGINT/SIGTERM before anything was published, or by a second signal. */
  Interrupted: 130,
} as const;

/** A usage or configuration problem, shown without a stack trace, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The run was stopped by a signal before it could publish anything. */
export class InterruptedError extends Error {
  override name = 'InterruptedError';
}

/** What a command hands back to the error boundary: its exit code and, for --json, its one summary line. */
export interface CommandResult {
  code: number;
  summary?: Record<string, unknown> | undefined;
}

/**
 * When several accounts ran (a fleet), the process exits with the worst of their codes, in this order, worst first:
 * a signal stopped the fleet; a bug; what needs a person before the next run can work (a dead token, bad
 * configuration, an unusable folder, a snapshot that failed verification); then what may pass by itself (the host
 * unreachable); data lost to the window (--fail-on-loss); a partial snapshot (the next run retries what failed);
 * another run holding the account's lock; success.
 */
export const EXIT_SEVERITY: readonly number[] = [
  ExitCode.Interrupted,
  ExitCode.Error,
  ExitCode.Auth,
  ExitCode.Usage,
  ExitCode.Filesystem,
  ExitCode.VerifyFailed,
  ExitCode.Network,
  ExitCode.WindowLoss,
  ExitCode.Partial,
  ExitCode.Locked,
  ExitCode.Ok,
];

/** The worst of several exit codes by EXIT_SEVERITY (a code not listed counts as an unexpected error); 0 for none. */
export function worstExitCode(codes: readonly number[]): number {
  const rank = (code: number): number => {
    const i = EXIT_SEVERITY.indexOf(code);
    return i < 0 ? EXIT_SEVERITY.indexOf(ExitCode.Error) : i;
  };
  return codes.reduce<number>((worst, code) => (rank(code) < rank(worst) ? code : worst), ExitCode.Ok);
}
