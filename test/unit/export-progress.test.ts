import { describe, expect, it } from 'vitest';
import { renderFrame, renderProgress } from '../../src/cli/progress-display.js';
import {
  conversationWeight,
  etaSeconds,
  measuredPace,
  WorkTally,
  type ExportProgress,
} from '../../src/pipeline/extensions/export-progress.js';

describe('progress', () => {
  it('estimates the time left from calls per finished conversation at the account pace', () => {
    expect(etaSeconds(100, 0, 50, 2)).toBeUndefined();
    expect(etaSeconds(100, 10, 50, 2)).toBe(250);
    expect(etaSeconds(100, 10, 0, 2)).toBe(0);
  });

  it('renders a frame with done/listed, messages, calls, throttle waits and the ETA (a lower bound while listing)', () => {
    const p: ExportProgress = {
      accountId: '1784',
      accountUsername: 'acme',
      stage: 'exporting',
      conversationsListed: 100,
      conversationsDone: 40,
      listingComplete: false,
      messages: 12_345,
      hydrated: 800,
      calls: 1_000,
      throttleWaitMs: 61_000,
      maxRps: 2,
      etaSeconds: 3_725,
    };
    expect(renderProgress(p)).toBe(
      [
        'ig-export  account 1784 (@acme)  exporting',
        '  conversations 40 done / 100 listed so far   messages 12,345 (hydrated 800)',
        '  API calls 1,000 at ≤ 2/s   throttle waits 1 min 1 s   ETA ≥ 1 h 2 min',
      ].join('\n'),
    );
    expect(renderProgress({ ...p, listingComplete: true, etaSeconds: undefined })).toMatch(
      /listed {3}messages.*\n.*ETA: after the listing$/,
    );
  });

  it('draws a fleet frame: the totals line, then one named block per account, finished ones without an ETA', () => {
    const base: ExportProgress = {
      accountId: '1784',
      accountUsername: 'shop1',
      stage: 'exporting',
      conversationsListed: 10,
      conversationsDone: 5,
      listingComplete: true,
      messages: 50,
      hydrated: 40,
      calls: 12,
      throttleWaitMs: 0,
      maxRps: 2,
      etaSeconds: 30,
    };
    const frame = renderFrame('fleet: 2 of 3 accounts running, 1 finished', [
      { label: 'shop1', progress: base },
      { label: 'shop2', progress: { ...base, accountId: '1785', accountUsername: 'shop2', stage: 'done' } },
    ]);
    const lines = frame.split('\n');
    expect(lines).toHaveLength(7);
    expect(lines[0]).toBe('fleet: 2 of 3 accounts running, 1 finished');
    expect(lines[1]).toBe('ig-export  shop1: account 1784 (@shop1)  exporting');
    expect(lines[3]).toMatch(/ETA 30 s$/);
    expect(lines[4]).toBe('ig-export  shop2: account 1785 (@shop2)  done');
    expect(lines[6]).toMatch(/finished$/);
  });

  it('paces the estimate at the rate measured, never above --max-rps, and weighs conversations by what is left of them', () => {
    expect(measuredPace(10, 500, 2)).toBe(2); // under a second: the bound
    expect(measuredPace(30, 30_000, 2)).toBe(1); // latency made it 1/s
    expect(measuredPace(300, 10_000, 2)).toBe(2);
    const window = (items: number, next?: string) => ({ items: Array<unknown>(items), next, after: 'c' });
    expect(conversationWeight(undefined, 20)).toBe(1);
    expect(conversationWeight(window(7), 20)).toBe(0.05); // its whole window came with the listing
    expect(conversationWeight(window(20, 'https://x/next'), 20)).toBe(1);
    const work = new WorkTally();
    work.list(10);
    work.skip(2);
    work.finish(4);
    expect(work.etaSeconds(40, 2)).toBe(20); // 10 calls a unit, 4 units left, 2 calls/s
  });

  it('says cancelled, not finished, after a stopped run, and counts written and published rows apart', () => {
    const p: ExportProgress = {
      accountId: '1784',
      accountUsername: undefined,
      stage: 'done',
      conversationsListed: 10,
      conversationsDone: 6,
      listingComplete: false,
      messages: 500,
      hydrated: 100,
      calls: 40,
      throttleWaitMs: 0,
      maxRps: 2,
      etaSeconds: 0,
      messagesPublished: 300,
      conversationsSkipped: 2,
      stopReason: 'cancelled',
    };
    const frame = renderProgress(p);
    expect(frame).toMatch(/^ig-export {2}account 1784 {2}cancelled$/m);
    expect(frame).toMatch(
      /conversations 6 done \(2 unchanged\) \/ 10 listed so far {3}messages 500 written, 300 published/,
    );
    expect(frame).toMatch(/cancelled$/);
    expect(frame).not.toMatch(/finished/);
  });
});
