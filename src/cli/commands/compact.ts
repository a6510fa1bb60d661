import { systemClock } from '../../clock.js';
import { accountsIn, compactAccount } from '../../pipeline/compact-current-view.js';
import { DEFAULT_PARQUET_OPTIONS, type ParquetCompression } from '../../writers/parquet-writer.js';
import { UsageError } from '../exit-codes.js';

export interface CompactArgs {
  output: string;
  account?: string | undefined;
  compression: ParquetCompression;
  json: boolean;
}

/** `ig-export compact`: builds <output>/current/account=<id>/{messages,conversations}.parquet from every snapshot. */
export async function compactCommand(args: CompactArgs): Promise<number> {
  const accounts = args.account === undefined ? await accountsIn(args.output) : [args.account];
  if (accounts.length === 0)
    throw new UsageError(`no account=<id> folders under ${args.output}: nothing to compact`);
  const results = [];
  for (const accountId of accounts) {
    const r = await compactAccount(
      args.output,
      accountId,
      { ...DEFAULT_PARQUET_OPTIONS, compression: args.compression },
      () => systemClock.now(),
    );
    results.push(r);
    if (!args.json) {
      process.stdout.write(
        `Current view of account ${accountId} from ${r.snapshots} snapshots: ${r.dir}\n` +
          `  messages ${r.files['messages.parquet']?.rows ?? 0}, conversations ${r.files['conversations.parquet']?.rows ?? 0}\n`,
      );
    }
  }
  if (args.json) {
    process.stdout.write(
      `${JSON.stringify({ current: results.map((r) => ({ accountId: r.accountId, dir: r.dir, snapshots: r.snapshots, rows: Object.fromEntries(Object.entries(r.files).map(([k, v]) => [k, v.rows])) })) })}\n`,
    );
  }
  return 0;
}
