/**
 * What a running export tells its watcher through `onProgress` (the pipeline knows nothing of terminals): the stage,
 * conversations done against those listed so far, messages, calls and throttle waits, and an ETA from the calls
 * still needed at the account's pace.
 */
export interface ExportProgress {
  accountId: string;
  accountUsername: string | undefined;
  stage: 'exporting' | 'publishing' | 'done';
  conversationsListed: number;
  conversationsDone: number;
  /** The conversation listing reached its end (or the watermark): the ETA is then an estimate, not a lower bound. */
  listingComplete: boolean;
  messages: number;
  hydrated: number;
  calls: number;
  throttleWaitMs: number;
  maxRps: number;
  /** Seconds left: conversations still to do × calls per conversation so far, at `maxRps`; undefined until known. */
  etaSeconds: number | undefined;
}

export type OnProgress = (progress: ExportProgress) => void;

/** Seconds still needed: the average calls per finished conversation, times those listed and not done, at `rps`. */
export function etaSeconds(
  callsForConversations: number,
  conversationsDone: number,
  conversationsLeft: number,
  rps: number,
): number | undefined {
  if (conversationsDone === 0 || rps <= 0) return undefined;
  return ((callsForConversations / conversationsDone) * conversationsLeft) / rps;
}
