import type { ConversationsApi, MessageDetail } from '../graph/conversations-api.js';
import { GraphRequestError } from '../graph/errors.js';
import type { Logger } from '../logger.js';
import { expandMessages } from './stages/expand.js';
import { toListedMessage } from './transform.js';
import type { ListedMessage } from './types.js';

/** `--hydrate`: how the details of the 20 most recent messages are read. */
export type HydrateMode = 'auto' | 'expand' | 'per-message';

/** A listed message, with its details when the listing call already carried them. */
export interface ListedItem {
  m: ListedMessage;
  detail: MessageDetail | undefined;
}

export interface HydrationReport {
  /** What the run used in the end. */
  strategy: 'expand' | 'per-message';
  /** Why `auto` gave up on expansion (once per run), if it did. */
  fallback: { reason: string } | null;
}

/** A listed item carries details when any detail field came with it. */
function detailed(item: unknown): boolean {
  const m = item as Record<string, unknown> | null;
  return m !== null && (m['from'] !== undefined || m['to'] !== undefined || m['message'] !== undefined);
}

/**
 * The seam between listing and hydration. `expand` reads a conversation's 20 most recent messages with their
 * details in one call (field expansion on the conversation node) and lists the rest with ids and times only;
 * `per-message` lists ids and leaves every detail to one call per message. `auto` starts with expansion and falls
 * back to per-message for the rest of the run the first time the server refuses it or ignores its detail fields.
 * Details are never asked of more than the window.
 */
export class HydrationStrategy {
  private current: 'expand' | 'per-message';
  private fallbackReason: string | undefined;
  /** `auto`: the first expanded call is a probe; the other conversations wait for its verdict. */
  private probe: Promise<void> | undefined;

  constructor(
    private readonly api: ConversationsApi,
    private readonly mode: HydrateMode,
    private readonly windowSize: number,
    private readonly logger: Logger,
  ) {
    this.current = mode === 'per-message' ? 'per-message' : 'expand';
  }

  get report(): HydrationReport {
    return {
      strategy: this.current,
      fallback: this.fallbackReason === undefined ? null : { reason: this.fallbackReason },
    };
  }

  /** A conversation's messages, newest first, page by page. */
  async *pages(conversationId: string): AsyncGenerator<ListedItem[]> {
    if (this.current === 'expand') {
      const window = await this.window(conversationId);
      if (window) {
        yield window.items;
        if (window.next === undefined) return;
        let position = window.items.length;
        for await (const page of this.api.messageIdsAfter(window.next)) {
          yield page.map((item) => ({
            m: toListedMessage(item, position++, conversationId),
            detail: undefined,
          }));
        }
        return;
      }
    }
    for await (const page of expandMessages(this.api, conversationId)) {
      yield page.map((m) => ({ m, detail: undefined }));
    }
  }

  private async window(
    conversationId: string,
  ): Promise<{ items: ListedItem[]; next: string | undefined } | undefined> {
    if (this.mode !== 'auto') return this.expandedWindow(conversationId);
    if (this.probe) {
      await this.probe;
      return this.current === 'expand' ? this.expandedWindow(conversationId) : undefined;
    }
    let verdict: () => void = () => undefined;
    this.probe = new Promise((resolve) => (verdict = resolve));
    try {
      return await this.expandedWindow(conversationId);
    } finally {
      verdict();
    }
  }

  private async expandedWindow(
    conversationId: string,
  ): Promise<{ items: ListedItem[]; next: string | undefined } | undefined> {
    let answer: Awaited<ReturnType<ConversationsApi['messageWindow']>>;
    try {
      answer = await this.api.messageWindow(conversationId, this.windowSize);
    } catch (e) {
      if (this.mode !== 'auto' || !(e instanceof GraphRequestError) || e.kind === 'auth') throw e;
      this.fallBack(`the server refused the expansion (${e.classification.reason})`);
      return undefined;
    }
    if (answer.items.length > 0 && !answer.items.some(detailed)) {
      if (this.mode === 'auto') this.fallBack('the server ignored the detail fields of the expansion');
    }
    return {
      items: answer.items.map((item, position) => ({
        m: toListedMessage(item, position, conversationId),
        detail: detailed(item) ? (item as MessageDetail) : undefined,
      })),
      next: answer.next,
    };
  }

  private fallBack(reason: string): void {
    if (this.current === 'per-message') return;
    this.current = 'per-message';
    this.fallbackReason = reason;
    this.logger.warn(`hydration falls back to one call per message for this run: ${reason}`);
  }
}
