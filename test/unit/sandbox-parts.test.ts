import { describe, expect, it } from 'vitest';
import { parseFields } from '../../src/sandbox/field-spec.js';
import { decodeCursor, encodeCursor, encodeMetaId } from '../../src/sandbox/meta-id.js';
import { RateMeter } from '../../src/sandbox/rate-meter.js';

describe('sandbox building blocks', () => {
  it('encodes ids the way Meta does (Z → ZA, = → ZD)', () => {
    expect(encodeMetaId('ig_dm:1:IGMessageThread:178')).toMatch(/^aWdfZAG06MTpJR01lc3NhZA2VUaHJlYWQ6MTc4/);
    expect(decodeCursor(encodeCursor('abcZ=', 3))).toBe('abcZ=');
  });

  it('parses field expansion with modifiers and subfields', () => {
    expect(parseFields('id,messages.limit(100){id,created_time},participants')).toEqual([
      { name: 'id' },
      { name: 'messages', limit: 100, subfields: [{ name: 'id' }, { name: 'created_time' }] },
      { name: 'participants' },
    ]);
    expect(() => parseFields('id,,x')).toThrow();
  });

  it('throttles the third call inside one second and blocks the account afterwards', () => {
    const meter = new RateMeter({
      callsPerSecond: 2,
      errorCode: 80002,
      blockMs: 60_000,
      usageWindowMs: 3_600_000,
      usageQuota: 0,
    });
    expect(meter.record(0).throttled).toBe(false);
    expect(meter.record(500).throttled).toBe(false);
    expect(meter.record(999).throttled).toBe(true);
    expect(meter.record(30_000)).toMatchObject({ throttled: true, duringBlock: true, regainMinutes: 1 });
    expect(meter.record(61_000).throttled).toBe(false);
  });

  it('reports usage against the quota and throttles at 100 %', () => {
    const meter = new RateMeter({
      callsPerSecond: 0,
      errorCode: 4,
      blockMs: 1000,
      usageWindowMs: 60_000,
      usageQuota: 10,
    });
    for (let i = 0; i < 8; i++) meter.record(i * 100);
    expect(meter.usagePercent()).toBe(80);
    meter.record(900);
    expect(meter.record(950).throttled).toBe(true);
  });
});
