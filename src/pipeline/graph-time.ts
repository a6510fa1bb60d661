/**
 * Graph timestamps: ISO-8601 with a colon-less offset (`2023-01-27T23:38:06+0000`), or unix seconds when
 * `date_format=U` was asked for (contract §1.2). Returns epoch milliseconds, or undefined if unparseable.
 */
export function parseGraphTime(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value * 1000 : undefined;
  if (typeof value !== 'string') return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?)(Z|[+-]\d{2}:?\d{2})$/.exec(value);
  if (!m) return undefined;
  const offset = m[2] === 'Z' ? 'Z' : `${m[2]!.slice(0, 3)}:${m[2]!.slice(-2)}`;
  const ms = Date.parse(`${m[1]!}${offset}`);
  return Number.isNaN(ms) ? undefined : ms;
}
