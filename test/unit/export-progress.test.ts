import { describe, expect, it } from 'vitest';
import { renderFrame, renderProgress } from '../../src/cli/progress-display.js';
import { etaSeconds, type ExportProgress } from '../../src/pipeline/export-progress.js';

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
});
