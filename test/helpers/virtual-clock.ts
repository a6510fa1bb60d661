import type { Clock } from '../../src/clock.js';

/**
 * A clock whose sleeps take no real time: each sleep becomes a timer, and timers fire one per macrotask in time
 * order, moving `now` to their deadline. Every requested sleep is recorded for assertions.
 * Exact when the code under test has one sleeper at a time (sequential requests); with several concurrent
 * sleepers, virtual time can run ahead of in-flight I/O.
 */
export class VirtualClock implements Clock {
  readonly sleeps: number[] = [];
  private t: number;
  private timers: Array<{ at: number; seq: number; resolve: () => void }> = [];
  private seq = 0;
  private draining = false;

  constructor(start = Date.UTC(2026, 10, 27, 12, 0, 0)) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.sleeps.push(ms);
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.timers.push({ at: this.t + ms, seq: this.seq++, resolve });
      this.schedule();
    });
  }

  /** Moves time forward without sleeping (e.g. "a day passes between runs"). */
  advance(ms: number): void {
    this.t += ms;
  }

  private schedule(): void {
    if (this.draining) return;
    this.draining = true;
    setImmediate(() => {
      this.draining = false;
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers.shift();
      if (!next) return;
      this.t = Math.max(this.t, next.at);
      next.resolve();
      if (this.timers.length > 0) this.schedule();
    });
  }
}
