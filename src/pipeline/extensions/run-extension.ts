import type { MessageRow } from '../../schema/tables.js';
import type { ConversationActivity } from './loss-report.js';

/** Where a run stands, for extensions that report on it. */
export type RunStage = 'exporting' | 'publishing' | 'done';

/**
 * Something optional a run does beside extract → expand → hydrate → transform → write: media downloads, webhook
 * merge, progress, window accounting. The export loop calls each hook it has, in the order the extensions are
 * given; a new capability is a new extension, not a change to the loop.
 */
export interface RunExtension {
  /** After a message row is written into the open snapshot. */
  messageWritten?(row: MessageRow): Promise<void>;
  /** After a conversation's rows are all written. */
  conversationFinished?(activity: ConversationActivity): void;
  /** Work that must end inside the open snapshot before it is published (each checkpoint and the last). */
  beforePublish?(): Promise<void>;
  /** The run moved on: a conversation was finished (`exporting`), the last publish starts, or the run is done. */
  stage?(stage: RunStage): void;
}

/** The extensions of one run, called as one. */
export class RunExtensions implements Required<RunExtension> {
  constructor(private readonly list: readonly RunExtension[]) {}

  async messageWritten(row: MessageRow): Promise<void> {
    for (const e of this.list) await e.messageWritten?.(row);
  }

  conversationFinished(activity: ConversationActivity): void {
    for (const e of this.list) e.conversationFinished?.(activity);
  }

  async beforePublish(): Promise<void> {
    for (const e of this.list) await e.beforePublish?.();
  }

  stage(stage: RunStage): void {
    for (const e of this.list) e.stage?.(stage);
  }
}
