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

/** A key as people misspell it: case, and `-` for `_` or the other way round (`token-file` for `token_file`). */
const loosely = (key: string): string => key.toLowerCase().replace(/[-_]/g, '');

/** Lists of known keys this short are given in full after an unknown key; longer ones only lend a near match. */
const LIST_KNOWN_UP_TO = 6;

/** What to add after "unknown key x": the known key it misspells, or the few keys that place takes. */
function knownKeysHint(unknown: readonly string[], known: readonly string[] | undefined): string {
  if (known === undefined) return '';
  const near = unknown.flatMap((k) => {
    const match = known.find((candidate) => loosely(candidate) === loosely(k));
    return match === undefined ? [] : [`${k} is spelt ${match}`];
  });
  const all = known.length <= LIST_KNOWN_UP_TO ? [`the keys here are ${known.join(', ')}`] : [];
  const hints = [...near, ...all];
  return hints.length === 0 ? '' : ` (${hints.join('; ')})`;
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
      if (i.code === 'unrecognized_keys') {
        const where = key === '' ? '' : `${key}: `;
        const keys = i.keys.map((k) => `${prefix}${k}`).join(', ');
        return `${where}unknown ${prefix === '' ? 'key' : 'option'} ${keys}${knownKeysHint(i.keys, keysAt?.(i.path))}`;
      }
      return key === '' ? i.message : `${prefix}${key}: ${i.message}`;
    })
    .join('; ');
}
