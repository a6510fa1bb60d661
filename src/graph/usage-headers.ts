/**
 * Meta's usage headers (contract §5): `X-App-Usage` and `X-Ad-Account-Usage` hold whole-number percentages;
 * `X-Business-Use-Case-Usage` maps business object ids to arrays of `{call_count, total_time, total_cputime,
 * estimated_time_to_regain_access (minutes)}`. Malformed headers are ignored, never fatal.
 */
export interface UsageSnapshot {
  /** Highest percentage seen in any usage header, 0 when none. */
  maxPercent: number;
  /** `estimated_time_to_regain_access` in minutes, the highest one reported; 0 when none. */
  regainMinutes: number;
}

type HeaderGetter = (name: string) => string | null;

/** The usage headers Meta documents (contract §5); which of them graph.instagram.com sends is a GUESS. */
export const USAGE_HEADER_NAMES = ['x-app-usage', 'x-ad-account-usage', 'x-business-use-case-usage'] as const;

function parseJson(raw: string | null): unknown {
  if (raw === null || raw === '') return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return undefined; // a malformed header is treated as absent
  }
}

function percentages(entry: unknown): number[] {
  if (typeof entry !== 'object' || entry === null) return [];
  const out: number[] = [];
  for (const key of ['call_count', 'total_time', 'total_cputime', 'acc_id_util_pct']) {
    const v = (entry as Record<string, unknown>)[key];
    if (typeof v === 'number' && Number.isFinite(v)) out.push(v);
  }
  return out;
}

export function parseUsageHeaders(get: HeaderGetter): UsageSnapshot | undefined {
  const seen: number[] = [];
  let regainMinutes = 0;
  let any = false;
  for (const name of ['x-app-usage', 'x-ad-account-usage']) {
    const parsed = parseJson(get(name));
    if (parsed !== undefined) {
      any = true;
      seen.push(...percentages(parsed));
    }
  }
  const buc = parseJson(get('x-business-use-case-usage'));
  if (typeof buc === 'object' && buc !== null) {
    any = true;
    for (const entries of Object.values(buc)) {
      for (const entry of Array.isArray(entries) ? entries : [entries]) {
        seen.push(...percentages(entry));
        const regain = (entry as Record<string, unknown> | null)?.['estimated_time_to_regain_access'];
        if (typeof regain === 'number' && Number.isFinite(regain))
          regainMinutes = Math.max(regainMinutes, regain);
      }
    }
  }
  if (!any) return undefined;
  return { maxPercent: seen.length === 0 ? 0 : Math.max(...seen), regainMinutes };
}
