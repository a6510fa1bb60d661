import { GraphAuthError, GraphPagingError, GraphRequestError } from '../graph/errors.js';
import { ContractError } from '../graph/wire-shapes.js';
import type { StopReason } from './publishing/snapshot-sequence.js';

/**
 * The end of a run, decided by pure functions of what the run saw: why it stopped, whether it publishes, its status,
 * and where the next run may stop listing (the watermark).
 */

/**
 * Why an error stopped the run early, or undefined for an error that is a bug or an I/O failure (the run then
 * discards its snapshot and fails). A cancelled run is cancelled whatever error the abort surfaced as.
 */
export function stopReasonOf(error: unknown, aborted: boolean): StopReason | undefined {
  if (aborted) return 'cancelled';
  if (error instanceof GraphAuthError) return 'auth';
  if (
    error instanceof GraphRequestError ||
    error instanceof GraphPagingError ||
    error instanceof ContractError
  )
    return 'extract_failed';
  return undefined;
}

/** What a run saw, as far as its end is concerned. */
export interface RunFacts {
  stopReason: StopReason | undefined;
  /** The conversation listing reached its end (or the watermark). */
  listingComplete: boolean;
  /** A one-person run (--user-id): it says nothing about the account's other conversations. */
  onePerson: boolean;
  /** --since or --until: a slice of time says nothing about the rest. */
  timeWindowed: boolean;
  /** Listed conversations whose shape was wrong (they may be anywhere in time). */
  malformed: number;
  /** updated_time of conversations this run could not finish: the next run must list down to them. */
  unfinishedUpdatedMs: readonly number[];
  /** The newest conversation listed (undefined when none was). */
  newestListedMs: number | undefined;
  /** No row was written and no checkpoint was published. */
  nothingWritten: boolean;
}

/** A one-person run that listed to the end without finding the person. */
export function personNotFound(f: RunFacts): boolean {
  return f.onePerson && f.listingComplete && f.newestListedMs === undefined && f.stopReason === undefined;
}

/** A run that found nothing to do publishes nothing: the state and the run's summary record that it ran. */
export function publishes(f: RunFacts): boolean {
  return !(f.stopReason === undefined && f.nothingWritten);
}

/** Why a run published no snapshot: nothing new since the last run, a time window holding no message, or none at all. */
export type NoSnapshotReason = 'unchanged' | 'empty_window' | 'no_conversations';

/** The reason of a run that `publishes` says publishes nothing. */
export function noSnapshotReason(f: RunFacts): NoSnapshotReason {
  if (f.timeWindowed) return 'empty_window';
  // A listing that gave nothing at all: the account has no conversation (the planner sees every listed one).
  if (f.newestListedMs === undefined) return 'no_conversations';
  return 'unchanged';
}

/** Each reason as the log and the text summary say it. */
export const NO_SNAPSHOT_TEXT: Record<NoSnapshotReason, string> = {
  unchanged: 'nothing changed since the last run: no snapshot published',
  empty_window: 'no message in the time window: no snapshot published',
  no_conversations: 'the account has no conversations yet: no snapshot published',
};

export interface RunOutcome {
  status: 'complete' | 'partial';
  /**
   * Whether the state records a finished run, and the watermark the next run may stop listing at (undefined: no
   * conversation listed). Absent: the watermark stays where it was, so the next run looks again.
   */
  finish: { watermarkMs: number | undefined } | undefined;
}

/** After publishing: the status (rows still failed count as partial) and what the state records. */
export function runOutcome(f: RunFacts, failedRows: number): RunOutcome {
  const partial =
    f.stopReason !== undefined || f.unfinishedUpdatedMs.length > 0 || failedRows > 0 || f.malformed > 0;
  const finishes =
    f.listingComplete && f.stopReason === undefined && !f.onePerson && !f.timeWindowed && f.malformed === 0;
  return {
    status: partial ? 'partial' : 'complete',
    // Next run may stop listing at the newest conversation seen, unless something older was left unfinished.
    finish: finishes
      ? {
          watermarkMs:
            f.unfinishedUpdatedMs.length > 0 ? Math.min(...f.unfinishedUpdatedMs) - 1 : f.newestListedMs,
        }
      : undefined,
  };
}
