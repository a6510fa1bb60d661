import type { HydrationStatus, ListedConversation } from '../types.js';

interface OpenConversation {
  conversation: ListedConversation;
  listedAt: number;
  rows: number;
  hydrated: number;
}

/**
 * The conversations whose rows are being written: if the run stops in the middle of one, its conversation row
 * still goes into the snapshot with the rows written so far, so no message row is ever without its conversation.
 */
export class OpenConversations {
  private readonly open = new Map<string, OpenConversation>();

  start(conversation: ListedConversation, listedAt: number): void {
    this.open.set(conversation.id, { conversation, listedAt, rows: 0, hydrated: 0 });
  }

  row(conversationId: string, status: HydrationStatus): void {
    const c = this.open.get(conversationId);
    if (!c) return;
    c.rows++;
    if (status === 'hydrated') c.hydrated++;
  }

  finish(conversationId: string): void {
    this.open.delete(conversationId);
  }

  get size(): number {
    return this.open.size;
  }

  /** Conversations left unfinished that already have rows in the open snapshot. */
  withRows(): OpenConversation[] {
    return [...this.open.values()].filter((c) => c.rows > 0);
  }
}
