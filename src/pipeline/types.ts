import type { ConversationRow, MessageRow } from '../schema/tables.js';
import type { ConversationCommit } from '../state/state-store.js';
import type { ConversationActivity } from './extensions/loss-report.js';

export type { HydrationStatus } from '../schema/tables.js';

/** A conversation as listed by the extract stage. */
export interface ListedConversation {
  id: string;
  updatedMs: number;
  participant: { id: string; username: string | undefined } | undefined;
  /** The listing page it came on had a `next` link: stopping the listing here saves at least one call. */
  morePages: boolean;
  /** Its most recent messages with their details, when the listing carried them (nested field expansion). */
  window?: { items: unknown[]; next: string | undefined; after: string | undefined } | undefined;
}

/** A message id as listed by the expand stage, with its rank (0 = newest). */
export interface ListedMessage {
  id: string;
  createdMs: number;
  position: number;
  /** The listing entry as the API returned it. */
  raw: Record<string, unknown>;
}

/** A problem the run recorded instead of hiding (goes to the manifest). */
export interface RecordedFailure {
  stage: 'extract' | 'expand' | 'hydrate';
  conversation_id?: string;
  message_id?: string;
  kind: string;
  reason: string;
  message: string;
}

/** A time window (--since/--until, epoch ms): messages created at or after `since` and before `until`. */
export interface TimeWindow {
  since: number | undefined;
  until: number | undefined;
}

/** What a time window left out of one conversation, and the calls that saved. */
export interface TimeWindowEffect {
  /** Listed messages outside the time window (no row is written for them). */
  outside: number;
  /** Of those, messages inside the 20-message window whose details would have cost a call each. */
  detailReadsSkipped: number;
  /** The listing stopped at --since although more pages followed (at least one call saved). */
  cutShort: boolean;
}

export type ExportEvent =
  | { type: 'message'; row: MessageRow }
  | {
      type: 'conversation';
      row: ConversationRow;
      commit: ConversationCommit;
      activity: ConversationActivity;
      timeWindow: TimeWindowEffect;
    }
  | { type: 'failure'; failure: RecordedFailure };

/** Identifies the rows of one run. */
export interface RowContext {
  accountId: string;
  snapshotId: string;
}
