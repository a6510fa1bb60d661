import { systemClock } from '../../clock.js';
import { compactAccount } from '../../pipeline/compact-current-view.js';
import { loadConfigFile, mergeSettings, toExportOptions } from '../export-settings.js';
import { readAccessToken } from '../access-token.js';
import { createCliLogger, type LogLevel } from '../cli-logger.js';
import { runAndReport } from '../run-and-report.js';

export interface ExportArgs {
  config?: string | undefined;
  json: boolean;
  'log-level': LogLevel;
  [flag: string]: unknown;
}

/** `ig-export export`: settings from defaults ← config file ← flags; the token from env or file. */
export async function exportCommand(args: ExportArgs): Promise<number> {
  const config = args.config === undefined ? {} : await loadConfigFile(args.config);
  const settings = mergeSettings(config, args);
  const token = await readAccessToken(settings['token-file'], process.env);
  const logger = createCliLogger(args['log-level'], () => [token.token]);
  const options = toExportOptions(settings, token);
  const { code, summary } = await runAndReport(options, logger, args.json);
  if (settings.compact && summary) {
    const current = await compactAccount(options.outputRoot, summary.accountId, options.parquet, () =>
      systemClock.now(),
    );
    logger.info(`current view rebuilt from ${current.snapshots} snapshots: ${current.dir}`);
  }
  return code;
}
