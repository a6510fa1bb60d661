import { describe, expect, it } from 'vitest';
import { parseUsageHeaders } from '../../src/graph/usage-headers.js';

const headers = (h: Record<string, string>) => (name: string) => h[name] ?? null;

describe('parseUsageHeaders', () => {
  it('takes the highest percentage of X-App-Usage and every BUC entry, and the longest regain time', () => {
    const usage = parseUsageHeaders(
      headers({
        'x-app-usage': '{"call_count":28,"total_time":25,"total_cputime":25}',
        'x-business-use-case-usage':
          '{"17841400000000000":[{"type":"instagram","call_count":91,"total_cputime":10,"total_time":12,"estimated_time_to_regain_access":0},{"type":"messenger","call_count":5,"estimated_time_to_regain_access":7}]}',
      }),
    );
    expect(usage).toEqual({ maxPercent: 91, regainMinutes: 7 });
  });

  it('reads X-Ad-Account-Usage percentages too', () => {
    expect(parseUsageHeaders(headers({ 'x-ad-account-usage': '{"acc_id_util_pct":9.67}' }))).toEqual({
      maxPercent: 9.67,
      regainMinutes: 0,
    });
  });

  it('treats malformed headers as absent instead of failing', () => {
    expect(parseUsageHeaders(headers({ 'x-app-usage': '{not json' }))).toBeUndefined();
    expect(
      parseUsageHeaders(headers({ 'x-business-use-case-usage': '{"1":[null, {"call_count":"x"}]}' })),
    ).toEqual({ maxPercent: 0, regainMinutes: 0 });
    expect(parseUsageHeaders(headers({}))).toBeUndefined();
  });
});
