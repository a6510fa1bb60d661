import type { KnownMessage } from '../state/state-store.js';
import type { ListedMessage } from './types.js';

/** What an incremental run does with a listed message. */
export type ListedDecision =
  /** Not archived yet: hydrate it if inside the window, else write it as outside_window. */
  | 'new'
  /** Archived as `failed` by an earlier run and still inside the window: try its details again. */
  | 'retry'
  /** Already archived by an earlier snapshot: write nothing. */
  | 'known';

/**
 * The boundary between new and archived messages of one conversation. Messages are listed newest first; the first
 * message already known (or older than everything remembered) marks the boundary: everything after it was listed
 * by an earlier run. Pages after the one holding the boundary are never requested.
 */
export class MessageBoundary {
  private reached = false;
  private readonly oldestKnownMs: number;

  constructor(
    private readonly known: ReadonlyMap<string, KnownMessage>,
    private readonly windowSize: number,
  ) {
    this.oldestKnownMs =
      known.size === 0 ? Number.NEGATIVE_INFINITY : Math.min(...[...known.values()].map((k) => k.createdMs));
  }

  /** A full export: every listed message is new and every page is listed. */
  static none(windowSize: number): MessageBoundary {
    return new MessageBoundary(new Map(), windowSize);
  }

  get boundaryReached(): boolean {
    return this.reached;
  }

  decide(m: ListedMessage): ListedDecision {
    const k = this.known.get(m.id);
    if (k) {
      this.reached = true;
      return k.status === 'failed' && m.position < this.windowSize ? 'retry' : 'known';
    }
    if (this.reached || m.createdMs < this.oldestKnownMs) {
      this.reached = true;
      return 'known';
    }
    return 'new';
  }
}
