import { systemClock } from '../../clock.js';
import { withRunLock } from '../../state/run-lock.js';
import { compactAccount, type CompactResult } from '../../snapshots/compact.js';
import { accountLockDir, accountsIn } from '../../snapshots/layout.js';
import { DEFAULT_PARQUET_OPTIONS, type ParquetCompression } from '../../writers/parquet-options.js';
import { createCliLogger, type LogLevel } from '../cli-logger.js';
import { InterruptedError, UsageError, type CommandResult } from '../exit-codes.js';
import { withStopSignals } from '../stop-signals.js';
import { stateDirOf } from '../definitions/shared-options.js';
import { checkDuckDbMemory } from '../option-ranges.js';

export interface CompactArgs {
  output: string;
  'state-dir'?: string | undefined;
  account?: string | undefined;
  compression: ParquetCompression;
  rebuild: boolean;
  'duckdb-memory': number;
  json: boolean;
  'log-level': LogLevel;
}

/** The accounts to work on: the one asked for (it must have snapshots), or every account under the output root. */
export async function selectAccounts(output: string, account: string | undefined): Promise<string[]> {
  const present = await accountsIn(output);
  if (present.length === 0)
    throw new UsageError(
      `no account=<id> folders under ${output}: nothing exported there yet (check --output)`,
    );
  if (account === undefined) return present;
  if (!present.includes(account)) {
    throw new UsageError(
      `no snapshots of account ${account} under ${output}; accounts there: ${present.join(', ')}`,
    );
  }
  return [account];
}

/** How the view was folded, when the previous view stood for some snapshots: " (2 read, 5 in the previous view)". */
export const foldedNote = (r: CompactResult): string =>
  r.carried && r.read < r.snapshots ? ` (${r.read} read, ${r.snapshots - r.read} in the previous view)` : '';

/** The lines compact prints for one account's view. */
const viewLines = (r: CompactResult): string =>
  `Current view of account ${r.accountId} from ${r.snapshots} snapshots${foldedNote(r)}: ${r.dir}\n` +
  `  messages ${r.files['messages.parquet']?.rows ?? 0}, conversations ${r.files['conversations.parquet']?.rows ?? 0}\n` +
  (r.dropped > 0
    ? `  rebuilt without ${r.dropped} pruned snapshot(s) the previous view held: their rows are no longer in the view\n`
    : '');

/** What a signal stopping compact (or prune --compact) left: the view being built stays as it was. */
export const stoppedCompacting = (accountId: string, rerun: string, done: number): InterruptedError =>
  new InterruptedError(
    `stopped by a signal while compacting account ${accountId}: its current view is as it was before; ` +
      `run ${rerun} again${done > 0 ? ` (the ${done} account(s) before it are done)` : ''}`,
  );

/** `ig-export compact`: builds <output>/current/account=<id>/{messages,conversations}.parquet from every snapshot. */
export async function compactCommand(args: CompactArgs): Promise<CommandResult> {
  checkDuckDbMemory(args['duckdb-memory']);
  const accounts = await selectAccounts(args.output, args.account);
  const results: CompactResult[] = [];
  const logger = createCliLogger(args['log-level'], () => []);
  await withStopSignals(
    logger,
    args.json,
    async (signal) => {
      for (const accountId of accounts) {
        // The account's lock keeps a prune (or an export's cleanup) from removing snapshots while they are read.
        const r = await withRunLock(
          accountLockDir(stateDirOf(args), accountId),
          () => systemClock.now(),
          () =>
            compactAccount(
              args.output,
              accountId,
              { ...DEFAULT_PARQUET_OPTIONS, compression: args.compression },
              () => systemClock.now(),
              {
                stateDir: stateDirOf(args),
                rebuild: args.rebuild,
                duckdbMemoryMb: args['duckdb-memory'],
                signal,
              },
            ),
        ).catch((e: unknown) => {
          throw signal.aborted ? stoppedCompacting(accountId, 'ig-export compact', results.length) : e;
        });
        results.push(r);
        if (!args.json) process.stdout.write(viewLines(r));
      }
    },
    'stopping the compaction; the current view being built stays as it was',
  );
  return {
    code: 0,
    summary: {
      status: 'complete',
      current: results.map((r) => ({
        accountId: r.accountId,
        dir: r.dir,
        snapshots: r.snapshots,
        ...(r.dropped > 0 ? { dropped: r.dropped } : {}),
        rows: Object.fromEntries(Object.entries(r.files).map(([k, v]) => [k, v.rows])),
      })),
    },
  };
}
