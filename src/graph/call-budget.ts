import type { Clock } from '../clock.js';
import { CALLS_PER_SECOND } from './meta-limits.js';

export interface CallBudgetOptions {
  /** Calls per second for the account (Conversations API: 2). */
  maxRps: number;
  /** Above this usage percentage (from Meta's usage headers) the budget slows down. */
  slowDownAbovePercent: number;
  clock: Clock;
  /** Told about every wait the budget imposes for a reason other than plain pacing. */
  onWait?: ((reason: string, ms: number) => void) | undefined;
}

/** After a throttle the pace drops to this share of what it was (multiplicative decrease)… */
const DECREASE = 0.7;
/** …climbs back quickly (share of --max-rps per second) to 85 % of the pace that was throttled… */
const FAST_CLIMB_PER_S = 0.2;
const FAST_TARGET = 0.85;
/** …and then probes slowly towards --max-rps (additive increase), so a lower real limit is met rarely. */
const PROBE_PER_S = 0.002;
const MIN_FACTOR = 0.05;
/** Meta counts an account's calls in a sliding second (the sandbox plays it so). */
const WINDOW_MS = 1000;
/**
 * A time, not a share of the pace: `windowCalls` + 1 evenly spaced calls span a second and this margin, and a call
 * waits this long beyond the second after its anchor was answered.
 */
export const WINDOW_MARGIN_MS = 50;

/** One call the window counts: when it was answered (undefined while in flight). */
interface CallInWindow {
  answeredAt: number | undefined;
  answered: Promise<void>;
}

/**
 * One call budget per account, shared by every stage. Calls are spaced evenly (no bursts) at `maxRps` or a little
 * under it, and a call goes out only a second (and 50 ms) after the call `windowCalls` before it was *answered*: Meta counts
 * calls when they arrive, somewhere between our sending and its answer, so this is the one rule that keeps
 * `windowCalls` calls per second at Meta's end whatever delayed them on the way (a busy event loop on either side, a
 * slow network). It costs a round trip per `windowCalls` calls. The pace slows down as Meta's usage percentage nears 100 %, and stop entirely while the account is throttled.
 * Each throttle episode also lowers the pace (`slowDown`), which then recovers on its own: when the account's real
 * limit is below `maxRps`, the pace settles just under it instead of meeting it again and again.
 */
export class CallBudget {
  private lastSlot = Number.NEGATIVE_INFINITY;
  private pausedUntil = Number.NEGATIVE_INFINITY;
  private usageFactor = 1;
  /** The last decrease: when, the pace it left, and the pace that was throttled. */
  private decrease: { atMs: number; floor: number; ceiling: number } | undefined;
  /** The last `windowCalls` calls, oldest first. */
  private readonly sent: CallInWindow[] = [];

  constructor(private readonly options: CallBudgetOptions) {}

  /** The share of `maxRps` the account is paced at now, after throttles (1 when none came). */
  get paceFactor(): number {
    const d = this.decrease;
    if (!d) return 1;
    const seconds = Math.max(0, (this.options.clock.now() - d.atMs) / 1000);
    const fastTarget = Math.max(d.floor, FAST_TARGET * d.ceiling);
    const fast = d.floor + FAST_CLIMB_PER_S * seconds;
    if (fast < fastTarget) return fast;
    const probing = seconds - (fastTarget - d.floor) / FAST_CLIMB_PER_S;
    return Math.min(1, fastTarget + PROBE_PER_S * probing);
  }

  /**
   * Calls allowed in any window of a second and the margin: floor(`maxRps`), so 2 at Meta's 2/s and at 2.5/s, 3 at
   * 3.7/s. Below Meta's 2/s a pace such as 1.8/s needs two calls in some seconds (floor would halve it), and Meta
   * allows two: there it is ceil(`maxRps`), at most 2.
   */
  get windowCalls(): number {
    const rps = this.options.maxRps;
    return Math.max(1, Math.floor(rps + 1e-9), Math.min(CALLS_PER_SECOND, Math.ceil(rps - 1e-9)));
  }

  /** Even spacing at `maxRps`, and at least wide enough that `windowCalls` + 1 calls span a second and the margin. */
  get intervalMs(): number {
    if (this.options.maxRps <= 0) return 0;
    const spacing = Math.max(1000 / this.options.maxRps, (WINDOW_MS + WINDOW_MARGIN_MS) / this.windowCalls);
    return spacing / (this.usageFactor * this.paceFactor);
  }

  /** The call `windowCalls` back, whose answer the next call waits for (plus a second). */
  private windowAnchor(): CallInWindow | undefined {
    if (this.options.maxRps <= 0) return undefined;
    return this.sent[this.sent.length - this.windowCalls];
  }

  /** A throttle episode began: lower the pace (multiplicative decrease); it recovers by itself. */
  slowDown(): void {
    const ceiling = this.paceFactor;
    const floor = Math.max(MIN_FACTOR, ceiling * DECREASE);
    this.decrease = { atMs: this.options.clock.now(), floor, ceiling };
    if (this.options.maxRps > 0)
      this.options.onWait?.(`pace lowered to ${(this.options.maxRps * floor).toFixed(2)} calls/s`, 0);
  }

  /**
   * Waits until this account may make one more call, and reserves that slot. The caller says when the call was
   * answered (or failed, or was not sent after all) by calling the function it gets back.
   */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    const { clock } = this.options;
    for (;;) {
      signal?.throwIfAborted();
      const now = clock.now();
      if (now < this.pausedUntil) {
        await clock.sleep(this.pausedUntil - now, signal);
        continue;
      }
      // The interval is read now, so the latest usage reading applies to this very call.
      const slot = Math.max(now, this.lastSlot + this.intervalMs);
      this.lastSlot = slot;
      if (slot > now) await clock.sleep(slot - now, signal);
      await this.windowAllows(signal);
      if (clock.now() < this.pausedUntil) continue; // throttled while we waited: our slot is void
      // A late wake-up (a busy event loop) moves the slot: the calls after it must not catch up in a burst.
      this.lastSlot = Math.max(this.lastSlot, clock.now());
      let settle!: () => void;
      const call: CallInWindow = { answeredAt: undefined, answered: new Promise<void>((r) => (settle = r)) };
      this.sent.push(call);
      if (this.sent.length > this.windowCalls) this.sent.shift();
      return () => {
        call.answeredAt ??= clock.now();
        settle();
      };
    }
  }

  /** Checked at the real time of sending, whatever the event loop did meanwhile: waits out the window's anchor. */
  private async windowAllows(signal: AbortSignal | undefined): Promise<void> {
    const { clock } = this.options;
    for (let anchor = this.windowAnchor(); anchor; anchor = this.windowAnchor()) {
      if (anchor.answeredAt === undefined) await abortable(anchor.answered, signal);
      else if (clock.now() < anchor.answeredAt + WINDOW_MS + WINDOW_MARGIN_MS)
        await clock.sleep(anchor.answeredAt + WINDOW_MS + WINDOW_MARGIN_MS - clock.now(), signal);
      else return;
    }
  }

  /** A pause is in force now (a throttle met by another request already stopped the account). */
  get paused(): boolean {
    return this.options.clock.now() < this.pausedUntil;
  }

  /**
   * The account was throttled: no call of any stage goes out before `until`. Overlapping pauses are one pause:
   * only the part that extends the current one is reported, so the reported waits add up to the real paused time.
   */
  pauseUntil(until: number, reason: string): void {
    if (until <= this.pausedUntil) return;
    const now = this.options.clock.now();
    const extension = until - Math.max(now, this.pausedUntil);
    this.pausedUntil = until;
    this.options.onWait?.(reason, extension);
  }

  /** Feed the latest usage percentage: above the threshold, calls are spread out linearly towards 100 %. */
  observeUsage(percent: number): void {
    const { slowDownAbovePercent } = this.options;
    const before = this.usageFactor;
    this.usageFactor =
      percent <= slowDownAbovePercent ? 1 : Math.max(0.05, (100 - percent) / (100 - slowDownAbovePercent));
    if (this.usageFactor < 1 && before === 1) {
      this.options.onWait?.(
        `usage at ${percent} %: slowing to ${(this.options.maxRps * this.usageFactor).toFixed(2)} calls/s`,
        0,
      );
    }
  }
}

/** `promise`, or the signal's reason as soon as it is aborted. */
function abortable(promise: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return promise;
  signal.throwIfAborted();
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    void promise.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}
