import type { ConversationRow, MessageRow } from '../../schema/tables.js';
import {
  emptyCounts,
  zeroByStatus,
  type ConversationAccount,
  type Counts,
  type Manifest,
} from '../../snapshots/manifest.js';
import type { ConversationCommit } from '../../state/state-store.js';
import type { ConversationActivity } from '../extensions/loss-report.js';
import type { MediaOutcome } from '../extensions/media-archive.js';
import type { RecordedFailure, TimeWindowEffect } from '../types.js';

const MAX_LISTED_FAILURES = 1000;

type MediaSummary = NonNullable<Manifest['media']>;
/** Calls a time window (--since/--until) saved while a snapshot was open. */
type WindowSavings = NonNullable<Manifest['window_savings']>;

/**
 * What one open snapshot holds, counted as its rows are written: by status, per conversation, per day, media, the
 * state commits and the failures. The manifest is built from it (manifest-builder.ts); it does no I/O.
 */
export class SnapshotTally {
  readonly counts: Counts = emptyCounts();
  readonly commits: ConversationCommit[] = [];
  readonly activities: ConversationActivity[] = [];
  /** The first failures, listed in the manifest (at most 1,000); `failuresTotal` counts them all. */
  readonly failures: RecordedFailure[] = [];
  failuresTotal = 0;
  /** Listed conversations that needed nothing (archived and unchanged). */
  skipped = 0;
  readonly perConversation = new Map<string, ConversationAccount>();
  readonly savings: WindowSavings = { listing_stopped_early: 0, detail_reads_skipped: 0 };
  readonly media: MediaSummary = { downloaded: 0, expired: 0, too_large: 0, failed: 0, files: 0, bytes: 0 };
  /** Message rows per creation day, for the report's chart. */
  readonly daily = new Map<string, number>();
  /** Media files stored in the snapshot, by SHA-256. */
  readonly mediaFiles = new Map<string, number>();

  /** The snapshot holds no row and no failure. */
  get isEmpty(): boolean {
    return this.counts.conversations === 0 && this.counts.messages === 0 && this.failuresTotal === 0;
  }

  message(row: MessageRow): void {
    const status = row.hydration_status;
    this.counts.messages++;
    this.counts[status]++;
    const account = this.accountOf(row.conversation_id);
    account.rows++;
    account[status]++;
    const day = new Date(row.created_time).toISOString().slice(0, 10);
    this.daily.set(day, (this.daily.get(day) ?? 0) + 1);
  }

  /**
   * A conversation (keyed by its id as listed, like its messages), who it is with as written (redacted when asked),
   * its state commit and what its time window did.
   */
  conversation(
    conversationId: string,
    written: Pick<ConversationRow, 'participant_id' | 'participant_username'>,
    commit: ConversationCommit,
    activity: ConversationActivity,
    timeWindow: TimeWindowEffect | undefined,
  ): void {
    this.counts.conversations++;
    this.counts.lost += activity.lost;
    const account = this.accountOf(conversationId);
    account.outside_time_window += timeWindow?.outside ?? 0;
    account.participant_id = written.participant_id;
    account.participant_username = written.participant_username;
    this.savings.listing_stopped_early += timeWindow?.cutShort ? 1 : 0;
    this.savings.detail_reads_skipped += timeWindow?.detailReadsSkipped ?? 0;
    this.commits.push(commit);
    this.activities.push(activity);
  }

  mediaOutcome(outcome: MediaOutcome): void {
    this.media[outcome.status]++;
    if (outcome.status === 'downloaded' && outcome.sha256 !== null && !this.mediaFiles.has(outcome.sha256)) {
      this.mediaFiles.set(outcome.sha256, outcome.bytes ?? 0);
      this.media.files++;
      this.media.bytes += outcome.bytes ?? 0;
    }
  }

  failure(failure: RecordedFailure): void {
    this.failuresTotal++;
    if (this.failures.length < MAX_LISTED_FAILURES) this.failures.push(failure);
  }

  /** The conversation listing stopped at --since although more pages followed. */
  listingCutShort(): void {
    this.savings.listing_stopped_early++;
  }

  private accountOf(conversationId: string): ConversationAccount {
    let a = this.perConversation.get(conversationId);
    if (a === undefined) {
      a = { conversation_id: conversationId, listed: 0, rows: 0, ...zeroByStatus(), outside_time_window: 0 };
      this.perConversation.set(conversationId, a);
    }
    return a;
  }
}
