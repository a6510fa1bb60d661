import { describe, expect, it } from 'vitest';
import { groupedNumber } from '../../src/snapshots/grouped-number.js';

describe('a count with thousands separators', () => {
  it('is what toLocaleString("en-US") writes, for whole numbers of every length and sign, and for the rest', () => {
    const values = [0, -0, 7, -7, 1.5, 2 / 3, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1e21, NaN];
    for (let digits = 1; digits <= 16; digits++) {
      const v = Number('9'.repeat(digits));
      values.push(v, -v, 10 ** (digits - 1), 10 ** (digits - 1) + 1);
    }
    for (const v of values) expect(groupedNumber(v), String(v)).toBe(v.toLocaleString('en-US'));
  });
});
