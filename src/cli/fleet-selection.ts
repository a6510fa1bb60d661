import { createHash } from 'node:crypto';
import { UsageError } from './exit-codes.js';
import type { FleetAccount } from './export-settings.js';

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
