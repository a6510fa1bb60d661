import { describe, expect, it } from 'vitest';
import { usageMessage } from '../../src/cli/error-boundary.js';
import { mergeSettings } from '../../src/cli/export-settings.js';

const known = ['output', 'max-rps', 'compression'];
const ctx = (command: string | undefined, ...argv: string[]) => ({ command, known, argv });

describe('a parse failure is one line naming the flag or argument and what to do', () => {
  it.each([
    [
      'Not enough arguments following: max-rps',
      ctx('export', 'export', '--max-rps'),
      '--max-rps needs a value (--max-rps <value>)',
    ],
    [
      'Invalid values:\n  Argument: compression, Given: "lz4", Choices: "zstd", "snappy", "gzip", "none"',
      ctx('export', 'export', '--compression', 'lz4'),
      '--compression must be one of zstd, snappy, gzip, none (got "lz4")',
    ],
    [
      'Invalid values:\n  Argument: compression, Given: "x", Choices: "zstd"\n  Argument: hydrate, Given: "y", Choices: "auto"',
      ctx('export', 'export', '--compression=x', '--hydrate', 'y'),
      '--compression must be one of zstd (got "x"); --hydrate must be one of auto (got "y")',
    ],
    [
      'Invalid values:\n  Argument: action, Given: "nope", Choices: "refresh"',
      ctx('token', 'token', 'nope'),
      'action must be one of refresh (got "nope")',
    ],
    [
      'Not enough non-option arguments: got 0, need at least 1',
      ctx('token', 'token'),
      'name the action: ig-export token refresh',
    ],
    [
      'Not enough non-option arguments: got 0, need at least 1',
      ctx('verify', 'verify'),
      /^name what to verify/,
    ],
    [
      'Not enough non-option arguments: got 0, need at least 1',
      ctx('import-dyi', 'import-dyi'),
      /^name the archive: ig-export import-dyi <the \.zip/,
    ],
    [
      'Unknown argument: max-rsp',
      ctx('export', 'export', '--max-rsp', '2'),
      'unknown option --max-rsp (did you mean --max-rps?)',
    ],
    ['Unknown arguments: zzz, q', ctx('export'), 'unknown option --zzz; unknown option -q'],
    ['Did you mean export?', ctx(undefined, 'exprot'), 'unknown command; did you mean export?'],
  ])('%j', (message, context, expected) => {
    const line = usageMessage(message, context);
    expect(line).not.toContain('\n');
    if (typeof expected === 'string') expect(line).toBe(expected);
    else expect(line).toMatch(expected);
  });

  it.each([
    [{ 'max-rps': 0 }, '--max-rps: must be at least 0.01'],
    [{ 'max-rps': 5000 }, '--max-rps: must be at most 1000'],
    [{ 'max-rps': Number.NaN }, '--max-rps: must be a number'],
    [{ retries: 1.5 }, '--retries: must be a whole number'],
    [{ output: '' }, '--output: needs a value'],
    [{ compression: 'lz4' }, '--compression: must be one of zstd, snappy, gzip, none'],
    [{ 'webhook-retention-days': 0 }, '--webhook-retention-days: must be more than 0'],
    // A schema's own wording is kept.
    [{ account: 'shop' }, '--account: must be "me" or a numeric account id'],
  ])('flag values are told in plain words: %j', (flags, expected) => {
    expect(() => mergeSettings({}, flags)).toThrow(`invalid option ${expected}`);
  });
});
