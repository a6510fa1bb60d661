import { systemClock } from '../../clock.js';
import { accountLockDir } from '../../pipeline/snapshot-layout.js';
import { withRunLock } from '../../state/run-lock.js';
import { loadConfigFile, mergeSettings, toExportOptions } from '../export-settings.js';
import { knownSecrets, readAccessToken, readRedactKey, TOKEN_ENV } from '../access-token.js';
import { createCliLogger, type LogLevel } from '../cli-logger.js';
import type { CommandResult } from '../exit-codes.js';
import { describeFailure } from '../failure-report.js';
import { runAndReport } from '../run-and-report.js';

export interface ExportArgs {
  config?: string | undefined;
  json: boolean;
  'log-level': LogLevel;
  [flag: string]: unknown;
}

/** `ig-export export`: settings from defaults ← config file ← flags; the token from env or file. */
export async function exportCommand(args: ExportArgs): Promise<CommandResult> {
  const config = args.config === undefined ? {} : await loadConfigFile(args.config);
  const settings = mergeSettings(config, args);
  const token = await readAccessToken(settings['token-file'], process.env);
  const logger = createCliLogger(args['log-level'], () => knownSecrets());
  if (token.source === 'file' && process.env[TOKEN_ENV]?.trim())
    logger.warn(`both --token-file and ${TOKEN_ENV} are set: using the token from --token-file`);
  const redactKey = settings.redact
    ? await readRedactKey(settings['redact-key-file'], process.env)
    : undefined;
  const base = toExportOptions(settings, token);
  const options = { ...base, run: { ...base.run, redactKey } };
  const { code, summary, run } = await runAndReport(options, logger, {
    json: args.json,
    failOnLoss: settings['fail-on-loss'],
  });
  if (settings.compact && run.snapshotDirs.length > 0) {
    try {
      // Loaded only when asked for: DuckDB is a large native module, and a locked run must answer at once.
      const { compactAccount } = await import('../../pipeline/compact-current-view.js');
      const now = (): number => systemClock.now();
      const current = await withRunLock(accountLockDir(options.run.stateDir, run.accountId), now, () =>
        compactAccount(options.run.outputRoot, run.accountId, options.parquet, now),
      );
      logger.info(`current view rebuilt from ${current.snapshots} snapshots: ${current.dir}`);
    } catch (e) {
      // The export itself was published: a failed compaction must not turn it into a failed run.
      const failure = describeFailure(e);
      logger.warn(`the current view was not rebuilt (${failure.message}); run "ig-export compact" later`);
      summary['compactError'] = { kind: failure.kind, message: failure.message };
    }
  }
  return { code, summary };
}
