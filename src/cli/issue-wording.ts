import leven from 'leven';
import type { z } from 'zod';

/**
 * How a bad flag or config value is told: zod's default wording ("Too small: expected number to be >=0.01") in the
 * words of the flag's user ("must be at least 0.01"). A message a schema spells out itself is kept (zod ranks a
 * schema's own message above the per-parse map this is).
 */
export const plainIssue: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'too_small':
      if (issue.origin === 'string' && Number(issue.minimum) === 1) return 'needs a value';
      if (issue.origin === 'number')
        return `must be ${issue.inclusive ? 'at least' : 'more than'} ${String(issue.minimum)}`;
      return undefined;
    case 'too_big':
      if (issue.origin === 'number')
        return `must be ${issue.inclusive ? 'at most' : 'less than'} ${String(issue.maximum)}`;
      return undefined;
    case 'invalid_type':
      if (issue.expected === 'number') return 'must be a number';
      if (issue.expected === 'int') return 'must be a whole number';
      if (issue.expected === 'boolean') return 'must be true or false';
      if (issue.expected === 'string') return 'must be text';
      return undefined;
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')}`;
    default:
      return undefined;
  }
};

/** The known name closest to a mistyped one (`max-rsp` → `max-rps`, `token-file` → `token_file`), if one is close. */
export function closestName(name: string, known: readonly string[]): string | undefined {
  return known
    .map((k) => ({ k, d: leven(name.toLowerCase(), k.toLowerCase()) }))
    .sort((a, b) => a.d - b.d)
    .find((x) => x.d <= Math.max(2, Math.floor(name.length / 3)))?.k;
}

/** Lists of known keys this short are given in full after an unknown key; longer ones only lend a near match. */
const LIST_KNOWN_UP_TO = 6;

/** Unknown keys, each with the known key it probably misspells, then the keys that place takes when they are few. */
function unknownKeys(
  unknown: readonly string[],
  prefix: string,
  known: readonly string[] | undefined,
): string {
  const keys = unknown.map((k) => {
    const match = known === undefined ? undefined : closestName(k, known);
    return `${prefix}${k}${match === undefined ? '' : ` (did you mean ${prefix}${match}?)`}`;
  });
  const all =
    known !== undefined && known.length <= LIST_KNOWN_UP_TO ? `; the keys here are ${known.join(', ')}` : '';
  return `unknown ${prefix === '' ? 'key' : 'option'} ${keys.join(', ')}${all}`;
}

/**
 * Validation problems on one line, each naming its flag (or config key): `--since: must be a date …`. `keysAt` names
 * the keys an object at a path takes, so that an unknown key is told with the known one it misspells.
 */
export function issuesLine(
  error: z.ZodError,
  prefix: string,
  keysAt?: (path: readonly PropertyKey[]) => readonly string[] | undefined,
): string {
  return error.issues
    .map((i) => {
      const key = i.path.join('.');
      if (i.code === 'unrecognized_keys')
        return `${key === '' ? '' : `${key}: `}${unknownKeys(i.keys, prefix, keysAt?.(i.path))}`;
      return key === '' ? i.message : `${prefix}${key}: ${i.message}`;
    })
    .join('; ');
}
