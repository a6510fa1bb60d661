import type { Clock } from '../../clock.js';
import type { Logger } from '../../logger.js';
import { CheckpointGate } from './checkpoint-gate.js';
import { OpenConversations } from './open-conversations.js';
import type { SnapshotSequence, StopReason } from './snapshot-sequence.js';
import { toConversationRow } from '../transform.js';
import type { HydrationStatus, ListedConversation, RowContext } from '../types.js';

export interface CheckpointRules {
  /** Publish a checkpoint at least this often… */
  checkpointMs: number;
  /** …and after this many conversations (0 = no count limit). */
  checkpointConversations: number;
}

/**
 * Decides when the open snapshot is published as a checkpoint, and keeps every conversation's rows in a single
 * snapshot: when a checkpoint is due, new conversations wait at the gate until those in flight are finished. If
 * the run stops, the conversations in flight still get their row (`writeInterrupted`).
 */
export class CheckpointCoordinator {
  private readonly gate = new CheckpointGate();
  private readonly open = new OpenConversations();

  constructor(
    private readonly sequence: SnapshotSequence,
    private readonly rules: CheckpointRules,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** Waits while a checkpoint is pending, then counts the conversation as in flight. */
  async admit(conversation: ListedConversation): Promise<void> {
    await this.gate.pass();
    this.open.start(conversation, this.clock.now());
  }

  messageWritten(conversationId: string, status: HydrationStatus): void {
    this.open.row(conversationId, status);
  }

  /** A conversation's row was written: publish a checkpoint if one is due and nothing else is in flight. */
  async conversationFinished(conversationId: string): Promise<void> {
    this.open.finish(conversationId);
    if (!this.due()) return;
    this.gate.close();
    if (this.open.size > 0) return;
    const m = await this.sequence.publish(false, 'checkpoint');
    this.logger.info(`checkpoint ${m.checkpoint.index} published: ${m.counts.conversations} conversations`);
    await this.sequence.open();
    this.gate.open();
  }

  /** The run stopped: every conversation in flight that has rows gets its row, and a failure saying why. */
  async writeInterrupted(ctx: RowContext, reason: StopReason): Promise<void> {
    for (const c of this.open.withRows()) {
      await this.sequence.writeConversation(
        toConversationRow(
          ctx,
          c.conversation,
          { messages: c.rows, hydrated: c.hydrated, total: null },
          c.listedAt,
        ),
        {
          conversationId: c.conversation.id,
          updatedMs: c.conversation.updatedMs,
          checkedMs: c.listedAt,
          complete: false,
          messageTotal: undefined,
          messages: [],
          windowSize: 0,
        },
        { conversationId: c.conversation.id, newMessages: 0, lost: 0, elapsedMs: undefined },
      );
      this.sequence.recordFailure({
        stage: 'expand',
        conversation_id: c.conversation.id,
        kind: 'interrupted',
        reason,
        message: `the run stopped (${reason}) after ${c.rows} message rows of this conversation were written; the next run exports it again`,
      });
    }
  }

  /** Nothing waits at the gate any more (the run is over). */
  release(): void {
    this.gate.open();
  }

  private due(): boolean {
    const { checkpointConversations, checkpointMs } = this.rules;
    return (
      (checkpointConversations > 0 && this.sequence.conversationsInSnapshot >= checkpointConversations) ||
      this.clock.now() - this.sequence.openedMs >= checkpointMs
    );
  }
}
