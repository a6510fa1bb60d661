import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode, EXIT_SEVERITY, worstExitCode } from '../../src/cli/exit-codes.js';
import { loadConfigFile, type FleetAccount } from '../../src/cli/export-settings.js';
import { parseAccountNames, parseShard, selectAccounts, shardOf } from '../../src/cli/fleet-selection.js';
import { tempDir } from '../helpers/export-options.js';
import { REPO_ROOT } from '../helpers/run-cli.js';

const fleet: FleetAccount[] = Array.from({ length: 60 }, (_, i) => ({
  name: `shop${i}`,
  account: `17841${String(400000000000 + i * 7919)}`,
  token_env: `TOKEN_${i}`,
}));

describe('choosing the accounts of a fleet', () => {
  it('parses --shard i/n (0-based) and refuses anything else', () => {
    expect(parseShard('2/5')).toEqual({ index: 2, count: 5 });
    for (const bad of ['5/5', '1/0', '-1/3', 'a/b', '1', '1/2/3'])
      expect(() => parseShard(bad)).toThrow(/--shard/);
  });

  it('puts every account in exactly one shard, evenly, whatever the order of the list', () => {
    const count = 4;
    const shards = Array.from({ length: count }, (_, index) =>
      selectAccounts(fleet, undefined, { index, count }),
    );
    const names = shards.flat().map((a) => a.name);
    expect(names.sort()).toEqual(fleet.map((a) => a.name).sort());
    for (const s of shards) expect(s.length).toBeGreaterThanOrEqual(8); // 15 each when perfectly even
    // Stable: the same account lands in the same shard when the list is reordered or grows.
    const reordered = [...fleet].reverse().concat({ name: 'new', account: '17841999', token_env: 'T' });
    for (const [index, s] of shards.entries()) {
      const again = selectAccounts(reordered, undefined, { index, count }).filter((a) => a.name !== 'new');
      expect(again.map((a) => a.name).sort()).toEqual(s.map((a) => a.name).sort());
    }
    expect(shardOf('17841400000000000', 3)).toBe(shardOf('17841400000000000', 3));
  });

  it('selects by name before sharding, and names the known accounts when one is unknown', () => {
    expect(selectAccounts(fleet, parseAccountNames('shop3, shop1'), undefined).map((a) => a.name)).toEqual([
      'shop1',
      'shop3',
    ]);
    expect(() => selectAccounts(fleet.slice(0, 2), ['shop9'], undefined)).toThrow(
      /no account named "shop9" .*it lists shop0, shop1/,
    );
    expect(() => parseAccountNames(' , ')).toThrow(/--accounts/);
  });

  it('ranks exit codes: signal, bug, dead token, usage, folder, verify, network, loss, partial, locked, ok', () => {
    expect(EXIT_SEVERITY).toEqual([130, 1, 3, 2, 8, 9, 7, 6, 4, 5, 0]);
    expect(worstExitCode([])).toBe(ExitCode.Ok);
    expect(worstExitCode([0, 5, 4])).toBe(ExitCode.Partial);
    expect(worstExitCode([5, 3, 4, 7])).toBe(ExitCode.Auth);
    expect(worstExitCode([6, 4, 0])).toBe(ExitCode.WindowLoss);
    expect(worstExitCode([2, 130])).toBe(ExitCode.Interrupted);
    // A code the table does not know counts as a bug.
    expect(worstExitCode([3, 42])).toBe(42);
  });
});

describe('a fleet config file', () => {
  const write = async (body: unknown): Promise<string> => {
    const path = join(await tempDir(), 'fleet.json');
    await writeFile(path, JSON.stringify(body));
    return path;
  };
  const entry = { name: 'a', account: '17841400000000001', token_env: 'TOKEN_A' };

  it('accepts the example in config/', async () => {
    const example = await loadConfigFile(join(REPO_ROOT, 'config/fleet.example.json'));
    expect(example.accounts?.map((a) => a.name)).toEqual(['bakery', 'florist']);
    expect(example.settings['account-concurrency']).toBe(4);
  });

  it('reads the accounts apart from the shared settings', async () => {
    const config = await loadConfigFile(
      await write({
        'max-rps': 1.5,
        accounts: [entry, { ...entry, name: 'b', account: '2', token_env: undefined, token_file: 't' }],
      }),
    );
    expect(config.settings).toEqual({ 'max-rps': 1.5 });
    expect(config.accounts?.map((a) => a.name)).toEqual(['a', 'b']);
  });

  it('refuses numeric ids, both or no token source, duplicates, and single-account keys beside the list', async () => {
    await expect(
      loadConfigFile(await write({ accounts: [{ ...entry, account: 17841400000000 }] })),
    ).rejects.toThrow(/accounts\.0\.account: must be the numeric account id, as a string/);
    await expect(loadConfigFile(await write({ accounts: [{ ...entry, token_file: 'f' }] }))).rejects.toThrow(
      /exactly one of token_env and token_file/,
    );
    await expect(
      loadConfigFile(await write({ accounts: [entry, { ...entry, account: '9' }] })),
    ).rejects.toThrow(/name "a" is listed twice/);
    await expect(loadConfigFile(await write({ accounts: [] }))).rejects.toThrow(/at least one account/);
    await expect(loadConfigFile(await write({ 'token-file': 't', accounts: [entry] }))).rejects.toThrow(
      /lists "accounts", so it cannot also set "token-file"/,
    );
    await expect(loadConfigFile(await write({ accounts: [{ ...entry, token: 'x' }] }))).rejects.toThrow(
      /token/,
    );
  });
});
