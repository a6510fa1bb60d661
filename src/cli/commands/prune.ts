import { systemClock } from '../../clock.js';
import { compactAccount } from '../../snapshots/compact.js';
import { parseRetention, planPrune, pruneSnapshots, type PrunePlan } from '../../snapshots/prune.js';
import { accountLockDir } from '../../snapshots/layout.js';
import { withRunLock } from '../../state/run-lock.js';
import { DEFAULT_PARQUET_OPTIONS } from '../../writers/parquet-options.js';
import { UsageError, type CommandResult } from '../exit-codes.js';
import { selectAccounts, stoppedCompacting } from './compact.js';
import { createCliLogger, type LogLevel } from '../cli-logger.js';
import { withStopSignals } from '../stop-signals.js';
import { stateDirOf } from '../definitions/shared-options.js';
import { checkDuckDbMemory } from '../option-ranges.js';

export interface PruneArgs {
  output: string;
  'state-dir'?: string | undefined;
  account?: string | undefined;
  keep: string;
  'dry-run': boolean;
  compact: boolean;
  'duckdb-memory': number;
  json: boolean;
  'log-level': LogLevel;
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

/**
 * `ig-export prune --keep <N|duration>`: removes old snapshots, but only those whose rows the current view already
 * holds (`--compact` builds it first); otherwise it refuses and says so. Holds each account's run lock meanwhile.
 */
export async function pruneCommand(args: PruneArgs): Promise<CommandResult> {
  checkDuckDbMemory(args['duckdb-memory']);
  const retention = parseRetention(args.keep);
  if (!retention)
    throw new UsageError(
      `--keep ${args.keep}: give a number of snapshots (e.g. 30) or an age (90m, 12h, 14d, 2w)`,
    );
  const stateDir = stateDirOf(args);
  const logger = createCliLogger(args['log-level'], () => []);
  const plans: PrunePlan[] = [];
  for (const accountId of await selectAccounts(args.output, args.account)) {
    // A dry run only reads: it works on a read-only archive, and takes no lock (it may race a run: it is a plan).
    const locked = <T>(fn: () => Promise<T>): Promise<T> =>
      args['dry-run'] ? fn() : withRunLock(accountLockDir(stateDir, accountId), () => systemClock.now(), fn);
    const plan = await locked(async () => {
      if (args.compact && !args['dry-run'])
        await withStopSignals(
          logger,
          args.json,
          (signal) =>
            compactAccount(args.output, accountId, DEFAULT_PARQUET_OPTIONS, () => systemClock.now(), {
              stateDir,
              duckdbMemoryMb: args['duckdb-memory'],
              signal,
            }).catch((e: unknown) => {
              throw signal.aborted
                ? stoppedCompacting(accountId, 'ig-export prune --compact', plans.length)
                : e;
            }),
          'stopping the compaction; nothing of this account will be pruned',
        );
      const p = await planPrune(args.output, accountId, retention, systemClock.now());
      if (p.notCompacted.length > 0 && !args['dry-run']) {
        throw new UsageError(
          `refusing to prune account ${accountId}: ${p.notCompacted.length} of the ${p.remove.length} snapshots to remove ` +
            'are not in the current view yet, and they may hold the only copy of a message. ' +
            'Run "ig-export compact" first, or pass --compact',
        );
      }
      if (!args['dry-run']) await pruneSnapshots(args.output, p);
      return p;
    });
    plans.push(plan);
    if (!args.json) {
      process.stdout.write(
        `${args['dry-run'] ? 'Would remove' : 'Removed'} ${plan.remove.length} snapshots of account ${accountId} ` +
          `(${mb(plan.bytes)}); kept ${plan.keep.length}${plan.remove.length > 0 ? `; oldest removed ${plan.remove[0]}` : ''}\n` +
          (plan.notCompacted.length > 0
            ? `  ${plan.notCompacted.length} of them are not in the current view yet: run "ig-export compact" first, or pass --compact\n`
            : ''),
      );
    }
  }
  return {
    code: 0,
    summary: {
      status: 'complete',
      dryRun: args['dry-run'],
      accounts: plans.map((p) => ({
        accountId: p.accountId,
        removed: p.remove,
        kept: p.keep.length,
        bytes: p.bytes,
      })),
    },
  };
}
