import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile, mergeSettings, parseInstant } from '../../src/cli/export-settings.js';
import { UsageError } from '../../src/cli/exit-codes.js';
import { tempDir } from '../helpers/export-options.js';

describe('export settings', () => {
  it('applies defaults, then the config file, then flags', () => {
    const s = mergeSettings({ 'max-rps': 1, output: 'from-config' }, { output: 'from-flag' });
    expect(s['max-rps']).toBe(1);
    expect(s.output).toBe('from-flag');
    expect(s['page-size']).toBe(100);
    expect(s['base-url']).toBe('https://graph.instagram.com');
  });

  it('rejects unknown keys and bad values in a config file with the key named', async () => {
    const dir = await tempDir();
    const typo = join(dir, 'typo.json');
    await writeFile(typo, JSON.stringify({ 'max-rsp': 2 }));
    await expect(loadConfigFile(typo)).rejects.toThrow(/max-rsp/);
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ 'max-rps': -1 }));
    await expect(loadConfigFile(bad)).rejects.toThrow(/max-rps/);
    const secret = join(dir, 'secret.json');
    await writeFile(secret, JSON.stringify({ token: 'x' }));
    await expect(loadConfigFile(secret)).rejects.toThrow(/must not hold the token/);
  });

  it('tells an unknown config key with the known one it misspells, and an account entry with its keys', async () => {
    const dir = await tempDir();
    const path = join(dir, 'config.json');
    await writeFile(path, JSON.stringify({ max_rps: 3, Output: 'x', 'max-rsp': 2, colour: 'red' }));
    await expect(loadConfigFile(path)).rejects.toThrow(
      /: unknown key max_rps \(did you mean max-rps\?\), Output \(did you mean output\?\), max-rsp \(did you mean max-rps\?\), colour$/,
    );
    // The top-level keys are written with "-", an account's with "_": the easy mistake is told, with where it is.
    await writeFile(path, JSON.stringify({ accounts: [{ name: 'a', account: '1', 'token-file': 't' }] }));
    await expect(loadConfigFile(path)).rejects.toThrow(
      /: accounts\.0: unknown key token-file \(did you mean token_file\?\); the keys here are name, account, token_env, token_file/,
    );
  });

  it('refuses a config path that begins with "~" (no shell expands it there), in an account entry too', async () => {
    const dir = await tempDir();
    const path = join(dir, 'config.json');
    await writeFile(path, JSON.stringify({ 'state-dir': '~/state', record: '~rec' }));
    await expect(loadConfigFile(path)).rejects.toThrow(
      /is invalid: state-dir: begins with "~", which only a shell expands .*; record: begins with "~"/,
    );
    await writeFile(path, JSON.stringify({ accounts: [{ name: 'a', account: '1', token_file: '~/t' }] }));
    await expect(loadConfigFile(path)).rejects.toThrow(
      /is invalid: accounts\.0\.token_file: begins with "~"/,
    );
    // A "~" further in is an ordinary character.
    await writeFile(path, JSON.stringify({ output: 'exports/~old' }));
    await expect(loadConfigFile(path)).resolves.toMatchObject({ settings: { output: 'exports/~old' } });
  });

  it('says what to do when the config file cannot be read', async () => {
    const dir = await tempDir();
    await expect(loadConfigFile(join(dir, 'missing.json'))).rejects.toThrow(
      `cannot read config file ${join(dir, 'missing.json')} (ENOENT): no such file; check the path given to --config`,
    );
    await expect(loadConfigFile(dir)).rejects.toThrow(/\(EISDIR\): that is a folder; give the JSON file$/);
  });

  it('reads a config file saved with a UTF-8 byte order mark (Windows editors) like one without', async () => {
    const path = join(await tempDir(), 'bom.json');
    await writeFile(path, `\uFEFF${JSON.stringify({ 'max-rps': 1.5 })}`);
    expect((await loadConfigFile(path)).settings).toEqual({ 'max-rps': 1.5 });
  });

  it('takes every setting from a config file as a flag gives it, formats included', async () => {
    const dir = await tempDir();
    const path = join(dir, 'config.json');
    await writeFile(path, JSON.stringify({ formats: 'parquet', 'max-rps': 1.5 }));
    const { settings } = await loadConfigFile(path);
    expect(mergeSettings(settings, {}).formats).toEqual(['parquet']);
    expect(mergeSettings(settings, { formats: 'ndjson,parquet' }).formats).toEqual(['ndjson', 'parquet']);
    await writeFile(path, JSON.stringify({ formats: 'csv' }));
    await expect(loadConfigFile(path)).rejects.toThrow(/formats/);
  });

  it('names the formats it does not know, by the flag alone', () => {
    expect(() => mergeSettings({}, { formats: 'csv,parquet,xml' })).toThrow(
      /^invalid option --formats: "csv", "xml" are not formats: the formats are ndjson, parquet$/,
    );
    expect(() => mergeSettings({}, { formats: 'parquet,json' })).toThrow(
      /^invalid option --formats: "json" is not a format: the formats are ndjson, parquet$/,
    );
    expect(() => mergeSettings({}, { formats: 'ndjson' })).toThrow(
      /^invalid option --formats: must include parquet \(compact and import-dyi read it\)/,
    );
  });

  it('validates merged flag values', () => {
    expect(() => mergeSettings({}, { account: 'someone' })).toThrow(UsageError);
    expect(() => mergeSettings({}, { 'api-version': '23' })).toThrow(/api-version/);
    expect(() => mergeSettings({}, { 'base-url': 'ftp://graph.example' })).toThrow(
      '--base-url: must be an http(s) URL, e.g. https://graph.instagram.com',
    );
    expect(() => mergeSettings({}, { 'base-url': 'graph.instagram.com' })).toThrow(
      /must be an http\(s\) URL/,
    );
  });
  it('refuses a --since in the future, which would export nothing and call it "nothing changed"', () => {
    const now = Date.UTC(2026, 11, 3, 12);
    expect(() => mergeSettings({}, { since: '2026-12-04' }, now)).toThrow(
      /^--since 2026-12-04 is in the future: no message was created after it yet$/,
    );
    expect(mergeSettings({}, { since: '2026-12-03', full: true }, now).since).toBe('2026-12-03');
  });

  it('refuses days that do not exist instead of rolling them over, and takes those that do', () => {
    expect(parseInstant('2026-02-30')).toBeUndefined();
    expect(parseInstant('2026-02-29')).toBeUndefined(); // not a leap year
    expect(parseInstant('2028-02-29')).toBe(Date.UTC(2028, 1, 29));
    expect(parseInstant('2026-04-31T10:00:00Z')).toBeUndefined();
    expect(parseInstant('2026-12-31T23:30:00-02:00')).toBe(Date.UTC(2027, 0, 1, 1, 30));
  });

  it('bounds numbers that would switch a safety off further in', () => {
    expect(() => mergeSettings({}, { 'max-rps': 1e-8 })).toThrow(/--max-rps/);
    expect(() => mergeSettings({}, { 'max-rps': Number.NaN })).toThrow(/--max-rps/);
    expect(() => mergeSettings({}, { 'timeout-ms': 1e12 })).toThrow(/--timeout-ms/);
    expect(mergeSettings({}, { 'max-rps': 0.01 })['max-rps']).toBe(0.01);
  });
});
