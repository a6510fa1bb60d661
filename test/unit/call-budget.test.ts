import { describe, expect, it } from 'vitest';
import { CallBudget } from '../../src/graph/call-budget.js';
import { VirtualClock } from '../helpers/virtual-clock.js';

describe('CallBudget', () => {
  it('spaces calls evenly, a second and 50 ms for every two calls at 2/s, with no burst at the start', async () => {
    const clock = new VirtualClock(0);
    const budget = new CallBudget({ maxRps: 2, slowDownAbovePercent: 80, clock });
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const answered = await budget.acquire();
      times.push(clock.now());
      answered(); // at once, as a sandbox on the same machine answers
    }
    expect(times).toEqual([0, 525, 1050, 1575, 2100]);
  });

  it("keeps a pace below Meta's 2/s whole: 1.8/s is two calls in some seconds, not one", async () => {
    const clock = new VirtualClock(0);
    const budget = new CallBudget({ maxRps: 1.8, slowDownAbovePercent: 80, clock });
    const times: number[] = [];
    for (let i = 0; i < 4; i++) {
      (await budget.acquire())();
      times.push(Math.round(clock.now()));
    }
    expect(times).toEqual([0, 556, 1111, 1667]);
  });

  it('sends a call only a second and 50 ms after the call windowCalls before it was answered', async () => {
    const clock = new VirtualClock(0);
    const budget = new CallBudget({ maxRps: 2, slowDownAbovePercent: 80, clock });
    const first = await budget.acquire();
    const second = await budget.acquire();
    expect(clock.now()).toBe(525);
    let thirdAt: number | undefined;
    const third = budget.acquire().then((answered) => {
      thirdAt = clock.now();
      return answered;
    });
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    // Its even slot (1050) has come, but the first call is still unanswered: Meta may not have counted it yet.
    expect(clock.now()).toBe(1050);
    expect(thirdAt).toBeUndefined();
    clock.advance(1_950); // the first answer comes at 3000
    first();
    second();
    (await third)();
    expect(thirdAt).toBe(3_000 + 1_050);
  });

  it('never lets more than floor(maxRps) calls (ceil below 2/s) out within a second and 50 ms, however late the timers fire', async () => {
    const windowCalls = new Map([
      [2, 2],
      [1.8, 2],
      [10, 10],
      [2.5, 2],
      [3.7, 3],
      [0.5, 1],
    ]);
    for (const [maxRps, k] of windowCalls) {
      const clock = new VirtualClock(0);
      // Every other wake-up comes 400 ms late, as on an event loop stalled by other work.
      let sleeps = 0;
      const lateClock = {
        now: () => clock.now(),
        sleep: (ms: number, signal?: AbortSignal) => clock.sleep(ms + (sleeps++ % 2 === 0 ? 400 : 0), signal),
      };
      const budget = new CallBudget({ maxRps, slowDownAbovePercent: 80, clock: lateClock });
      const sent: number[] = [];
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          for (let i = 0; i < 15; i++) {
            const answered = await budget.acquire();
            sent.push(clock.now());
            answered();
          }
        }),
      );
      sent.sort((a, b) => a - b);
      expect(new CallBudget({ maxRps, slowDownAbovePercent: 80, clock }).windowCalls).toBe(k);
      const tightest = Math.min(...sent.slice(k).map((t, i) => t - sent[i]!));
      expect(tightest, `maxRps ${maxRps}`).toBeGreaterThanOrEqual(1050);
    }
  });

  it('holds every caller while the account is throttled, and reports the wait once', async () => {
    const clock = new VirtualClock(0);
    const waits: Array<[string, number]> = [];
    const budget = new CallBudget({
      maxRps: 10,
      slowDownAbovePercent: 80,
      clock,
      onWait: (r, ms) => waits.push([r, ms]),
    });
    (await budget.acquire())();
    budget.pauseUntil(60_000, 'throttled (code_80002)');
    budget.pauseUntil(30_000, 'an earlier end does not shorten the pause');
    const times = await Promise.all(
      [0, 1, 2].map(async () => {
        (await budget.acquire())();
        return clock.now();
      }),
    );
    expect(Math.min(...times)).toBeGreaterThanOrEqual(60_000);
    expect(waits).toEqual([['throttled (code_80002)', 60_000]]);
  });

  it('slows down as reported usage passes the threshold', () => {
    const clock = new VirtualClock(0);
    const budget = new CallBudget({ maxRps: 2, slowDownAbovePercent: 80, clock });
    expect(budget.intervalMs).toBeCloseTo(525);
    budget.observeUsage(90);
    expect(budget.intervalMs).toBeCloseTo(1050);
    budget.observeUsage(50);
    expect(budget.intervalMs).toBeCloseTo(525);
  });

  it('stops waiting when the run is cancelled', async () => {
    const clock = new VirtualClock(0);
    const budget = new CallBudget({ maxRps: 1, slowDownAbovePercent: 80, clock });
    const controller = new AbortController();
    controller.abort(new Error('SIGINT'));
    await expect(budget.acquire(controller.signal)).rejects.toThrow('SIGINT');
  });

  it('a throttle lowers the pace at once, which climbs back fast to just under it, then probes slowly', () => {
    const clock = new VirtualClock(0);
    const budget = new CallBudget({ maxRps: 10, slowDownAbovePercent: 80, clock });
    expect(budget.paceFactor).toBe(1);
    budget.slowDown();
    expect(budget.paceFactor).toBeCloseTo(0.7);
    expect(budget.intervalMs).toBeCloseTo(105 / 0.7);
    clock.advance(500);
    expect(budget.paceFactor).toBeCloseTo(0.8); // fast climb: 0.2 of --max-rps per second
    clock.advance(500);
    expect(budget.paceFactor).toBeCloseTo(0.85); // 85 % of the throttled pace, then slow probing
    clock.advance(10_000);
    expect(budget.paceFactor).toBeCloseTo(0.87);
    // A second throttle while below the first one's pace lowers from where the pace is now.
    budget.slowDown();
    expect(budget.paceFactor).toBeCloseTo(0.87 * 0.7);
    clock.advance(3_600_000);
    expect(budget.paceFactor).toBe(1);
  });
});
