import { createHash } from 'node:crypto';
import { UsageError } from './exit-codes.js';
import type { ConfigFile, FleetAccount } from './export-settings.js';

/** `--shard i/n`: this host takes the accounts whose bucket is `i` of `n` (0-based, as Kubernetes Job indexes). */
export interface Shard {
  index: number;
  count: number;
}

export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || index >= count)
    throw new UsageError(
      `--shard ${text}: must be i/n with 0 ≤ i < n, e.g. --shard 0/3 (or "$JOB_COMPLETION_INDEX/3" in an indexed Kubernetes Job)`,
    );
  return { index, count };
}

/**
 * The bucket of an account among `count`: from a hash of its id, so that it depends on nothing but the id and the
 * number of shards (not on the order or the length of the list) and ids that share digits still spread evenly.
 */
export function shardOf(accountId: string, count: number): number {
  const head = createHash('sha256').update(accountId).digest().readUInt32BE(0);
  return head % count;
}

/** The accounts this run exports: those named by `--accounts` (all when absent), then those of this shard. */
export function selectAccounts(
  accounts: readonly FleetAccount[],
  names: readonly string[] | undefined,
  shard: Shard | undefined,
): FleetAccount[] {
  let chosen = [...accounts];
  if (names !== undefined) {
    const unknown = names.filter((n) => !accounts.some((a) => a.name === n));
    if (unknown.length > 0)
      throw new UsageError(
        `--accounts: no account named ${unknown.map((n) => `"${n}"`).join(', ')} in the config file ` +
          `(it lists ${accounts.map((a) => a.name).join(', ')})`,
      );
    chosen = chosen.filter((a) => names.includes(a.name));
  }
  if (shard !== undefined) chosen = chosen.filter((a) => shardOf(a.account, shard.count) === shard.index);
  return chosen;
}

/** `--accounts a,b` as a list of names. */
export function parseAccountNames(text: string): string[] {
  const names = text
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
  if (names.length === 0)
    throw new UsageError('--accounts: name at least one account, e.g. --accounts shop1,shop2');
  return names;
}

/**
 * The accounts a command works on: those of the config file's `accounts` chosen by `--accounts` and `--shard`, or
 * undefined for a single-account run (where those flags are refused, as are single-account flags beside a fleet).
 */
export function fleetFrom(
  config: ConfigFile,
  args: { accounts?: string | undefined; shard?: string | undefined; [flag: string]: unknown },
): FleetAccount[] | undefined {
  const names = args.accounts === undefined ? undefined : parseAccountNames(args.accounts);
  const shard = args.shard === undefined ? undefined : parseShard(args.shard);
  if (config.accounts === undefined) {
    if (names !== undefined || shard !== undefined)
      throw new UsageError(
        '--accounts and --shard choose among the "accounts" listed in a --config file, and none is given',
      );
    return undefined;
  }
  const single = (['account', 'token-file', 'user-id'] as const).filter((k) => args[k] !== undefined);
  if (single.length > 0)
    throw new UsageError(
      `${single.map((k) => `--${k}`).join(', ')} cannot be used with a config file that lists "accounts": ` +
        'choose accounts with --accounts <names> instead',
    );
  return selectAccounts(config.accounts, names, shard);
}
