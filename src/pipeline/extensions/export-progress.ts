import type { RunExtension, RunStage } from './run-extension.js';
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
  /** Seconds left: the work still listed × calls per unit of work so far, at the pace measured; undefined until known. */
  etaSeconds: number | undefined;
  /** Of `messages` (rows written by this run), those in published snapshots (a checkpoint publishes them). */
  messagesPublished?: number;
  /** Of `conversationsDone`, those archived before and unchanged: listed, and skipped without a call. */
  conversationsSkipped?: number;
  /** Why the run stopped early (`cancelled`, `auth`, …), once it has. */
  stopReason?: string | undefined;
}

/**
 * The pace the run achieves, in calls per second: the calls made over the time taken (latency and throttle waits
 * make it slower than `--max-rps`), at most `maxRps`; `maxRps` until a second has passed.
 */
export function measuredPace(calls: number, elapsedMs: number, maxRps: number): number {
  if (elapsedMs < 1_000 || calls === 0) return maxRps;
  const pace = calls / (elapsedMs / 1_000);
  return maxRps > 0 ? Math.min(maxRps, pace) : pace;
}

/**
 * How much work a listed conversation looks like, in units of "a conversation that needs calls of its own": with
 * field expansion most need none (the listing carried their whole window), so counting conversations would misjudge
 * what is left. One that goes on past its window, or came without one, weighs 1; a whole window weighs little.
 */
export function conversationWeight(
  window: { items: unknown[]; next: string | undefined; after: string | undefined } | undefined,
  windowSize: number,
): number {
  if (window === undefined) return 1;
  const more = window.next !== undefined || (window.after !== undefined && window.items.length >= windowSize);
  return more ? 1 : 0.05;
}

/**
 * The work of a run: listed (as the listing pages arrive, ahead of the export), skipped (archived and unchanged),
 * and done. The ETA is the calls per unit done so far, times the units listed and not done, at the pace measured.
 */
export class WorkTally {
  private listed = 0;
  private skipped = 0;
  private done = 0;

  list(weight: number): void {
    this.listed += weight;
  }

  skip(weight: number): void {
    this.skipped += weight;
  }

  finish(weight: number): void {
    this.done += weight;
  }

  etaSeconds(calls: number, pace: number): number | undefined {
    return etaSeconds(calls, this.done, Math.max(0, this.listed - this.skipped - this.done), pace);
  }
}

export type OnProgress = (progress: ExportProgress) => void;

/** Seconds still needed: the average calls per unit of work done, times the units left, at `rps` calls per second. */
export function etaSeconds(
  callsForConversations: number,
  conversationsDone: number,
  conversationsLeft: number,
  rps: number,
): number | undefined {
  if (conversationsDone === 0 || rps <= 0) return undefined;
  return ((callsForConversations / conversationsDone) * conversationsLeft) / rps;
}

/** What the progress extension reads from a running export, at each stage. */
export interface ProgressGauges {
  accountId: string;
  accountUsername: string | undefined;
  maxRps: number;
  now(): number;
  calls(): number;
  throttleWaitMs(): number;
  conversationsListed(): number;
  conversationsDone(): number;
  conversationsSkipped(): number;
  listingComplete(): boolean;
  counts(): { messages: number; hydrated: number };
  messagesPublished(): number;
  stopReason(): string | undefined;
  /** Seconds left for the work still listed, given the calls this run made so far and its pace. */
  etaSeconds(runCalls: number, pace: number): number | undefined;
}

/** Progress as a run extension: `onProgress` is told after each conversation, before the last publish, and at the end. */
export function progressExtension(onProgress: OnProgress, g: ProgressGauges): RunExtension {
  const startCalls = g.calls();
  const startedMs = g.now();
  return {
    stage(stage: RunStage): void {
      const calls = g.calls();
      const counts = g.counts();
      const runCalls = calls - startCalls;
      onProgress({
        accountId: g.accountId,
        accountUsername: g.accountUsername,
        stage,
        conversationsListed: g.conversationsListed(),
        conversationsDone: g.conversationsDone(),
        listingComplete: g.listingComplete(),
        messages: counts.messages,
        hydrated: counts.hydrated,
        calls,
        throttleWaitMs: g.throttleWaitMs(),
        maxRps: g.maxRps,
        etaSeconds:
          stage === 'done'
            ? 0
            : g.etaSeconds(runCalls, measuredPace(runCalls, g.now() - startedMs, g.maxRps)),
        messagesPublished: g.messagesPublished(),
        conversationsSkipped: g.conversationsSkipped(),
        stopReason: g.stopReason(),
      });
    },
  };
}
