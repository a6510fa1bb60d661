import { describe, expect, it } from 'vitest';
import { parseGraphTime } from '../../src/pipeline/graph-time.js';

describe('parseGraphTime', () => {
  it('reads Graph ISO times with a colon-less offset', () => {
    expect(parseGraphTime('2023-01-27T23:38:06+0000')).toBe(Date.UTC(2023, 0, 27, 23, 38, 6));
    expect(parseGraphTime('2023-01-27T23:38:06-0130')).toBe(Date.UTC(2023, 0, 28, 1, 8, 6));
    expect(parseGraphTime('2023-01-27T23:38:06+00:00')).toBe(Date.UTC(2023, 0, 27, 23, 38, 6));
    expect(parseGraphTime('2023-01-27T23:38:06.250Z')).toBe(Date.UTC(2023, 0, 27, 23, 38, 6, 250));
  });
  it('reads unix seconds (date_format=U) as numbers or digit strings', () => {
    expect(parseGraphTime(1674862686)).toBe(1674862686000);
    expect(parseGraphTime('1674862686')).toBe(1674862686000);
  });
  it('rejects what it cannot read instead of guessing', () => {
    for (const v of ['2023-01-27', 'yesterday', '', undefined, null, {}, Number.NaN])
      expect(parseGraphTime(v)).toBeUndefined();
  });
});
