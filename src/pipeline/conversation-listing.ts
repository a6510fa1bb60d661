import type { Logger } from '../logger.js';
import type { ContractError } from '../graph/wire-shapes.js';
import { needsRetry, type ConversationCommit } from '../state/state-store.js';
import type { CheckpointCoordinator } from './publishing/checkpoint-coordinator.js';
import type { ConversationPlanner } from './conversation-planner.js';
import type { ConversationPlan } from './export-conversation.js';
import { conversationWeight } from './extensions/export-progress.js';
import type { HydrationStrategy } from './hydration-strategy.js';
import { recordedFailure } from './recorded-failure.js';
import type { SnapshotSequence } from './publishing/snapshot-sequence.js';
import type { ListedConversation } from './types.js';

/**
 * The extract stage as the run sees it: the listing, newest first, turned into the plans of the conversations to
 * export (stopping at --since or the watermark, skipping what is archived and unchanged), with the tallies the end
 * of the run decides on.
 */
export class ConversationListing {
  listed = 0;
  /** Listed conversations whose shape was wrong: skipped and recorded; the watermark must not pass them. */
  malformed = 0;
  /** The listing reached its end (or the watermark). */
  complete = false;
  /** Conversations whose rows are all written. */
  finished = 0;
  /** updated_time of conversations this run could not finish: the next run must list down to them. */
  readonly unfinishedUpdatedMs: number[] = [];
  /** The weight each planned conversation was listed with (its share of the work, for the ETA). */
  private readonly weights = new Map<string, number>();

  constructor(
    private readonly run: {
      account: string;
      accountId: string;
      userId?: string | undefined;
      since?: number | undefined;
      windowSize: number;
    },
    private readonly hydration: HydrationStrategy,
    private readonly planner: ConversationPlanner,
    private readonly checkpoints: CheckpointCoordinator,
    private readonly sequence: SnapshotSequence,
    private readonly logger: Logger,
  ) {}

  async *plans(): AsyncGenerator<ConversationPlan> {
    const { account, accountId, userId, since } = this.run;
    for await (const c of this.hydration.conversations(account, accountId, userId, (e) =>
      this.onMalformed(e),
    )) {
      this.listed++;
      // Newest first: a conversation last updated before --since holds nothing newer, nor does any after it.
      if (since !== undefined && c.updatedMs < since) {
        if (c.morePages) this.sequence.recordConversationListingCutShort();
        break;
      }
      const plan = this.planner.decide(c);
      if (plan === 'stop') break;
      if (plan === 'skip') {
        this.hydration.work.skip(this.weightOf(c));
        this.sequence.recordSkipped();
        continue;
      }
      await this.checkpoints.admit(c);
      this.weights.set(c.id, this.weightOf(c));
      yield plan;
    }
    this.complete = true;
  }

  /** A conversation's rows are all written: its work is done, and an unfinished one holds the watermark back. */
  conversationFinished(conversationId: string, commit: ConversationCommit): void {
    this.finished++;
    this.hydration.work.finish(this.weights.get(conversationId) ?? 1);
    this.weights.delete(conversationId);
    if (needsRetry(commit)) this.unfinishedUpdatedMs.push(commit.updatedMs);
  }

  private weightOf(c: ListedConversation): number {
    return conversationWeight(c.window, this.run.windowSize);
  }

  private onMalformed(e: ContractError): void {
    this.malformed++;
    this.sequence.recordFailure(recordedFailure('extract', e));
    this.logger.warn(`skipped a malformed conversation: ${e.message}`);
  }
}
