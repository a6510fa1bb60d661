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

/** Validation problems on one line, each naming its flag (or config key): `--since: must be a date …`. */
export function issuesLine(error: z.ZodError, prefix: string): string {
  return error.issues
    .map((i) => {
      const key = i.path.join('.');
      if (i.code === 'unrecognized_keys')
        return `unknown ${prefix === '' ? 'key' : 'option'} ${i.keys.map((k) => `${prefix}${k}`).join(', ')}`;
      return key === '' ? i.message : `${prefix}${key}: ${i.message}`;
    })
    .join('; ');
}
