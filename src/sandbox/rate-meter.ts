/**
 * Per-account call accounting on the sandbox side: the Conversations API's ~2 calls/s limit (a sliding one-second
 * window), a longer usage quota reported as percentages in Meta's usage headers, and the block that follows a
 * throttle (contract §5). Throttling and usage are GUESSes in the contract, so every number is an option.
 */
export interface RateLimitOptions {
  /** Calls allowed in any sliding one-second window; 0 turns the per-second limit off. */
  callsPerSecond: number;
  /** Graph error code of the throttle reply (80002 by default; 4, 17, 613 are plausible too). */
  errorCode: number;
  /** How long an account stays blocked after it was throttled. */
  blockMs: number;
  /** Window of the usage quota reported in X-App-Usage / X-Business-Use-Case-Usage. */
  usageWindowMs: number;
  /** Calls per usage window that make 100 %; at 100 % the account is throttled. 0 = no quota. */
  usageQuota: number;
}

export interface MeterVerdict {
  throttled: boolean;
  /** The call arrived while the account was blocked by an earlier throttle. */
  duringBlock: boolean;
  usagePercent: number;
  regainMinutes: number;
}

export class RateMeter {
  private readonly recent: number[] = [];
  private readonly perSecond = new Map<number, number>();
  private usageCalls = 0;
  private blockedUntil = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: RateLimitOptions) {}

  /** Records one call at `now` and says whether it is throttled. */
  record(now: number): MeterVerdict {
    this.recordUsage(now);
    const usagePercent = this.usagePercent();
    if (now < this.blockedUntil) {
      return { throttled: true, duringBlock: true, usagePercent, regainMinutes: this.regainMinutes(now) };
    }
    const { callsPerSecond } = this.options;
    while (this.recent.length > 0 && (this.recent[0] ?? 0) <= now - 1000) this.recent.shift();
    this.recent.push(now);
    const overRate = callsPerSecond > 0 && this.recent.length > callsPerSecond;
    const overQuota = this.options.usageQuota > 0 && usagePercent >= 100;
    if (overRate || overQuota) {
      this.block(now);
      return { throttled: true, duringBlock: false, usagePercent, regainMinutes: this.regainMinutes(now) };
    }
    return { throttled: false, duringBlock: false, usagePercent, regainMinutes: 0 };
  }

  /** Blocks the account as a throttle does (also used by injected throttle faults). */
  block(now: number): void {
    this.blockedUntil = Math.max(this.blockedUntil, now + this.options.blockMs);
  }

  regainMinutes(now: number): number {
    return now < this.blockedUntil ? Math.ceil((this.blockedUntil - now) / 60_000) : 0;
  }

  usagePercent(): number {
    if (this.options.usageQuota <= 0) return 0;
    return Math.min(100, Math.round((100 * this.usageCalls) / this.options.usageQuota));
  }

  private recordUsage(now: number): void {
    const second = Math.floor(now / 1000);
    this.perSecond.set(second, (this.perSecond.get(second) ?? 0) + 1);
    this.usageCalls++;
    const oldest = second - Math.ceil(this.options.usageWindowMs / 1000);
    for (const [s, n] of this.perSecond) {
      if (s > oldest) break;
      this.perSecond.delete(s);
      this.usageCalls -= n;
    }
  }
}
