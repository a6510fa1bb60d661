import { stat } from 'node:fs/promises';
import { ArchiveWithoutThreadsError } from '../../archive/dyi-archive.js';
import { systemClock } from '../../clock.js';
import {
  ForeignArchiveError,
  importArchive,
  NothingExportedError,
} from '../../pipeline/archive-import/import-archive.js';
import { accountLockDir } from '../../snapshots/layout.js';
import { snapshotStoreFor } from '../../snapshots/snapshot-store.js';
import { withRunLock } from '../../state/run-lock.js';
import { DEFAULT_PARQUET_OPTIONS } from '../../writers/parquet-options.js';
import { collectCustody } from '../custody.js';
import { stateDirOf } from '../definitions/shared-options.js';
import { createCliLogger, type LogLevel } from '../cli-logger.js';
import { InterruptedError, UsageError, type CommandResult } from '../exit-codes.js';
import { withStopSignals } from '../stop-signals.js';
import { toolVersion } from '../tool-version.js';
import { selectAccounts } from './compact.js';
import { checkDuckDbMemory } from '../option-ranges.js';

export interface ImportDyiArgs {
  archive: string;
  output: string;
  'state-dir'?: string | undefined;
  account?: string | undefined;
  'copy-media': boolean;
  'duckdb-memory': number;
  'log-level': LogLevel;
  json: boolean;
}

/** The one account the archive goes to: named, or the only one under the output root. */
async function accountOf(args: ImportDyiArgs): Promise<string> {
  const accounts = await selectAccounts(args.output, args.account);
  if (accounts.length > 1)
    throw new UsageError(
      `${accounts.length} accounts under ${args.output} (${accounts.join(', ')}): name the archive's with --account`,
    );
  return accounts[0]!;
}

/** `ig-export import-dyi <archive>`: an import snapshot of the archive's texts (see pipeline/archive-import). */
export async function importDyiCommand(args: ImportDyiArgs): Promise<CommandResult> {
  checkDuckDbMemory(args['duckdb-memory']);
  await stat(args.archive).catch((e: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read the archive ${args.archive} (${e.code ?? String(e)}): check the path`);
  });
  const accountId = await accountOf(args);
  let r;
  const logger = createCliLogger(args['log-level'], () => []);
  let stopped: AbortSignal | undefined;
  try {
    r = await withStopSignals(
      logger,
      args.json,
      (signal) => {
        stopped = signal;
        return withRunLock(
          accountLockDir(stateDirOf(args), accountId),
          () => systemClock.now(),
          () =>
            importArchive({
              signal,
              store: snapshotStoreFor(args.output),
              accountId,
              source: args.archive,
              parquet: DEFAULT_PARQUET_OPTIONS,
              now: () => systemClock.now(),
              custody: collectCustody(process.argv.slice(2), []),
              toolVersion: toolVersion(),
              copyMedia: args['copy-media'],
              duckdbMemoryMb: args['duckdb-memory'],
            }),
        );
      },
      'stopping after the thread being read; nothing will be published',
    );
  } catch (e) {
    if (stopped?.aborted)
      throw new InterruptedError('import-dyi was stopped by a signal before publishing; nothing was written');
    if (e instanceof ForeignArchiveError || e instanceof ArchiveWithoutThreadsError)
      throw new UsageError(e.message);
    if (e instanceof NothingExportedError) throw new UsageError(`${e.message}: run ig-export export first`);
    if (/central directory|not a zip|signature/i.test(String((e as Error).message)))
      throw new UsageError(
        `${args.archive} is neither a zip nor a folder of Instagram's archive (${(e as Error).message}): pass the .zip Instagram gave, or the folder it unpacks to`,
      );
    throw e;
  }
  if (!args.json) {
    const head =
      r.status === 'unchanged'
        ? `Archive ${r.archive.fileName} was imported before (SHA-256 ${r.archive.sha256.slice(0, 12)}…): nothing changed\n`
        : `Imported ${r.archive.fileName} into account ${accountId}: ${r.snapshotDir ?? ''}\n`;
    process.stdout.write(
      head +
        `  messages: ${r.matched} matched, ${r.ambiguous} ambiguous, ${r.unmatched} with no listed message; ` +
        `threads: ${r.threads.matched} matched, ${r.threads.unmatched} not\n` +
        (r.status === 'complete'
          ? `  rows written: ${r.rows.imported} imported, ${r.rows.archive_only} archive_only; run ig-export compact to see them in the current view\n`
          : '') +
        r.malformed.map((p) => `  skipped ${p.path}: ${p.reason}\n`).join(''),
    );
  }
  return {
    code: 0,
    summary: {
      status: r.status,
      accountId,
      matched: r.matched,
      ambiguous: r.ambiguous,
      unmatched: r.unmatched,
      threads: r.threads,
      rows: r.rows,
      snapshotDir: r.snapshotDir,
      archive: { file: r.archive.fileName, bytes: r.archive.bytes, sha256: r.archive.sha256 },
      malformed: r.malformed,
      media: r.media,
    },
  };
}
