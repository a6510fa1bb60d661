import { spoolUnsends, webhookSpoolPath, WebhookSpool, type StoredEvent } from '../../state/webhook-spool.js';
import type { Logger } from '../../logger.js';

/**
 * What `ig-export listen` captured for an account, as an export uses it: the content of a listed message whose details
 * the API can no longer give (beyond the 20-message window, or answered as unavailable), and the unsends.
 *
 * A listed message is matched to a captured `message` event by id: the webhook's `mid` is expected to be the Graph
 * message id (GUESS, to be confirmed on a real account). Failing that, by conversation participant and time: the one
 * captured message whose sender or recipient is the conversation's participant and whose timestamp falls in the
 * second of the listed `created_time` (Graph times have second precision); two candidates match nothing.
 */
export interface CapturedContent {
  event: StoredEvent;
  /** The text after the latest captured edit. */
  text: string | null;
  /** How it was matched. */
  matchedBy: 'mid' | 'participant_time';
}

export class CapturedMessages {
  /**
   * Message ids of this run's rows whose events the spool holds, marked as merged once published. Only ids with
   * events are kept, so memory follows the spool, not the size of the export.
   */
  private readonly merged = new Set<string>();
  private unsendsApplied = 0;

  private constructor(
    private readonly spool: WebhookSpool,
    /** The ids the spool has events of, and its unsends: read once, so that rows without events cost no query. */
    private readonly mids: ReadonlySet<string>,
    private readonly unsends: ReadonlyMap<string, number>,
  ) {}

  /** The account's spool, or undefined when `listen` never stored anything for it. */
  static open(stateDir: string, accountId: string): CapturedMessages | undefined {
    const spool = WebhookSpool.open(webhookSpoolPath(stateDir, accountId), false);
    return spool ? new CapturedMessages(spool, spool.mids(), spoolUnsends(spool)) : undefined;
  }

  /** The captured content of a listed message the API could not give, if any. */
  find(
    listed: { id: string; createdMs: number },
    participantId: string | undefined,
  ): CapturedContent | undefined {
    const events = this.mids.has(listed.id) ? this.spool.byMid(listed.id) : [];
    let message = events.find((e) => e.type === 'message');
    let matchedBy: CapturedContent['matchedBy'] = 'mid';
    let edits = events;
    if (!message && participantId !== undefined) {
      const candidates = this.spool
        .messagesBetween(listed.createdMs, listed.createdMs + 999)
        .filter((e) => e.senderId === participantId || e.recipientId === participantId);
      if (candidates.length === 1) {
        message = candidates[0];
        matchedBy = 'participant_time';
        edits = message?.mid ? this.spool.byMid(message.mid) : [];
      }
    }
    if (!message) return undefined;
    const lastEdit = edits.filter((e) => e.type === 'edit').at(-1);
    this.merged.add(listed.id);
    if (message.mid !== null) this.merged.add(message.mid);
    return { event: message, text: lastEdit?.text ?? message.text, matchedBy };
  }

  /** When the message was unsent, per a captured unsend; undefined when none was seen. */
  unsentAt(mid: string): number | undefined {
    const at = this.unsends.get(mid);
    if (at !== undefined) this.unsendsApplied++;
    return at;
  }

  /** A row for this message id was written (hydrated from the API or not): its captured events are confirmed. */
  written(mid: string): void {
    if (this.mids.has(mid)) this.merged.add(mid);
  }

  /**
   * After the run published its snapshots: marks the captured events their rows took in, prunes merged events older
   * than the retention, and reports what stays pending (captured, never confirmed by a listing).
   */
  finish(
    publishedAtMs: number | undefined,
    retentionMs: number,
    nowMs: number,
  ): { unsends: number; pending: number; pruned: number } {
    if (publishedAtMs !== undefined) this.spool.markMerged(this.merged, publishedAtMs);
    const pruned = this.spool.prune(nowMs - retentionMs);
    const pending = this.spool.pendingMessages();
    return { unsends: this.unsendsApplied, pending, pruned };
  }

  close(): void {
    this.spool.close();
  }
}

/** What the webhook spool gave a run (see ExportSummary.webhooks). */
export interface WebhookReport {
  captured: number;
  unsends: number;
  pending: number;
  pruned: number;
}

/**
 * The end of the webhook merge: captured events are marked as merged only once a published snapshot holds their
 * rows; merged events past the retention are pruned. Null when `listen` never stored anything for the account.
 */
export function finishCaptured(
  captured: CapturedMessages | undefined,
  run: {
    /** When the run's last snapshot was published (undefined: none was). */
    publishedAtMs: number | undefined;
    retentionMs: number;
    nowMs: number;
    /** Rows filled from captured messages in the published snapshots. */
    capturedRows: number;
  },
  logger: Logger,
): WebhookReport | null {
  const spool = captured?.finish(run.publishedAtMs, run.retentionMs, run.nowMs);
  if (!spool) return null;
  const report = { captured: run.capturedRows, ...spool };
  if (report.captured > 0)
    logger.info(
      `${report.captured} message bodies the API could no longer give were filled from captured webhooks`,
    );
  if (report.pending > 0)
    logger.warn(
      `${report.pending} captured messages are not in any listing yet; they stay in the webhook spool until one confirms them`,
    );
  return report;
}
