import type { AccountState, StateStore } from '../state/state-store.js';
import type { ConversationPlan } from './export-conversation.js';
import type { ListedConversation } from './types.js';

/** What kind of run this is, from the options and what the account's state holds. */
export interface RunMode {
  mode: 'full' | 'incremental';
  /** Continues a full export an earlier run left unfinished. */
  resuming: boolean;
  resumedFromRunId: string | undefined;
}

/** --since/--until on a run that would be incremental: narrowing it would move the watermark past skipped messages. */
/** `--user-id` names a person the account has no conversation with (a typo, or an id from another account). */
export class NoSuchConversationError extends Error {
  override name = 'NoSuchConversationError';

  constructor(
    readonly userId: string,
    readonly accountId: string,
  ) {
    super(
      `account ${accountId} has no conversation with user ${userId}; check the Instagram-scoped id (IGSID): ` +
        'it is the participant_id column of a full export',
    );
  }
}

export class TimeWindowConflictError extends Error {
  override name = 'TimeWindowConflictError';

  constructor() {
    super(
      '--since/--until cannot narrow an incremental run (the archive would skip what lies outside the window): ' +
        'add --full to export the window in full, or --user-id for one person',
    );
  }
}

export function chooseRunMode(
  options: {
    mode: 'auto' | 'full';
    userId?: string | undefined;
    since?: number | undefined;
    until?: number | undefined;
  },
  store: StateStore,
  prior: AccountState,
): RunMode {
  const windowed = options.since !== undefined || options.until !== undefined;
  if (
    windowed &&
    options.mode === 'auto' &&
    options.userId === undefined &&
    prior.lastRunStartedMs !== undefined
  )
    throw new TimeWindowConflictError();
  // A one-person (--user-id) or time-window export is always a full export of what it selects, whatever the state
  // holds: a compliance export must not depend on what earlier runs happened to archive.
  const auto = options.mode === 'auto' && options.userId === undefined && !windowed;
  const incremental = auto && prior.lastRunStartedMs !== undefined;
  // A full export that an earlier run left unfinished (stopped, killed, or a checkpoint was its last word) is
  // continued: what it published unchanged costs no call.
  const resuming = auto && !incremental && store.conversationCount() > 0;
  return {
    mode: incremental ? 'incremental' : 'full',
    resuming,
    resumedFromRunId: resuming ? store.lastSnapshotRunId() : undefined,
  };
}

/**
 * Decides, for each listed conversation, what the run does with it: stop listing (older than the watermark),
 * skip it (archived and unchanged), or export it — in full, or down to the messages already archived.
 */
export class ConversationPlanner {
  skipped = 0;
  newestListedMs: number | undefined;

  constructor(
    private readonly store: StateStore,
    private readonly run: RunMode,
    private readonly prior: AccountState,
    private readonly overlapMs: number,
  ) {}

  decide(c: ListedConversation): 'stop' | 'skip' | ConversationPlan {
    this.newestListedMs = Math.max(this.newestListedMs ?? c.updatedMs, c.updatedMs);
    const incremental = this.run.mode === 'incremental';
    const { watermarkMs, lastRunStartedMs } = this.prior;
    // Every older conversation was archived when the watermark was set: no further page is needed.
    if (incremental && watermarkMs !== undefined && c.updatedMs < watermarkMs - this.overlapMs) return 'stop';
    const state = incremental || this.run.resuming ? this.store.conversation(c.id) : undefined;
    if (state && state.updatedMs === c.updatedMs && !state.needsRetry) {
      this.skipped++;
      return 'skip';
    }
    return {
      conversation: c,
      known: state ? this.store.knownMessages(c.id) : undefined,
      lastCheckedMs: state?.checkedMs,
      // Losses are counted for messages that arrived since this conversation was last read; none on a first read.
      lossSinceMs: state === undefined ? undefined : incremental ? lastRunStartedMs : state.checkedMs,
      previousTotal: state?.messageTotal,
    };
  }
}
