import { systemRandom } from '../system-random.js';
import { GraphAuthError } from '../../graph/errors.js';
import type { Logger } from '../../logger.js';
import {
  expiryWarning,
  knownLifetime,
  refreshDue,
  rememberFirstSeen,
  renewToken,
} from '../../pipeline/token-lifecycle.js';
import { ProgressDisplay } from '../progress-display.js';
import { replaceTokenFile } from '../token-file.js';
import { systemClock } from '../../clock.js';
import { accountLockDir } from '../../pipeline/snapshot-layout.js';
import { withRunLock } from '../../state/run-lock.js';
import { loadConfigFile, mergeSettings, toExportOptions, type ExportSettings } from '../export-settings.js';
import { knownSecrets, readAccessToken, readRedactKey, rememberSecret, TOKEN_ENV } from '../access-token.js';
import { createCliLogger, type LogLevel } from '../cli-logger.js';
import { UsageError, type CommandResult } from '../exit-codes.js';
import { describeFailure } from '../failure-report.js';
import { runAndReport } from '../run-and-report.js';

export interface ExportArgs {
  config?: string | undefined;
  json: boolean;
  'log-level': LogLevel;
  [flag: string]: unknown;
}

/**
 * The token the run uses: with --auto-refresh, renewed first when due (written back to --token-file); otherwise a
 * warning when its recorded expiry is near. A refresh that fails for any reason but a dead token leaves the run on
 * the current token, with a warning.
 */
async function tokenForRun(
  settings: ExportSettings,
  token: { token: string; source: 'env' | 'file' },
  logger: Logger,
): Promise<{ token: string; source: 'env' | 'file' }> {
  const options = toExportOptions(settings, token);
  const now = systemClock.now();
  const stateDir = options.run.stateDir;
  const lifetime = await knownLifetime(stateDir, token.token);
  const tokenFile = settings['token-file'];
  if (!settings['auto-refresh']) {
    const warning = expiryWarning(lifetime, now);
    if (warning) logger.warn(warning);
    return token;
  }
  if (tokenFile === undefined)
    throw new UsageError(
      `--auto-refresh needs --token-file: the renewed token is written there (${TOKEN_ENV} cannot be updated)`,
    );
  if (!refreshDue(lifetime, now)) return token;
  try {
    const renewed = await renewToken(options.client, stateDir, {
      clock: systemClock,
      random: systemRandom,
      logger,
    });
    rememberSecret(renewed.token);
    await replaceTokenFile(tokenFile, renewed.token);
    logger.info(
      `token refreshed in ${tokenFile}; it expires at ${new Date(renewed.expiresMs).toISOString()}`,
    );
    return { token: renewed.token, source: 'file' };
  } catch (e) {
    if (e instanceof GraphAuthError) throw e;
    // Refused as too young, say: its age is counted from now on, so the refresh is tried again once it can work.
    await rememberFirstSeen(stateDir, token.token, now);
    logger.warn(`the token was not refreshed (${describeFailure(e).message}); this run uses the current one`);
    return token;
  }
}

/** `ig-export export`: settings from defaults ← config file ← flags; the token from env or file. */
export async function exportCommand(args: ExportArgs): Promise<CommandResult> {
  const config = args.config === undefined ? {} : await loadConfigFile(args.config);
  const settings = mergeSettings(config, args);
  let token = await readAccessToken(settings['token-file'], process.env);
  // A live frame on a terminal; cron (no TTY) and --quiet keep plain log lines.
  const display = process.stderr.isTTY && !settings.quiet ? new ProgressDisplay() : undefined;
  const logger = createCliLogger(
    args['log-level'],
    () => knownSecrets(),
    display ? (line) => display.log(line) : undefined,
  );
  if (token.source === 'file' && process.env[TOKEN_ENV]?.trim())
    logger.warn(`both --token-file and ${TOKEN_ENV} are set: using the token from --token-file`);
  token = await tokenForRun(settings, token, logger);
  const redactKey = settings.redact
    ? await readRedactKey(settings['redact-key-file'], process.env)
    : undefined;
  const base = toExportOptions(settings, token);
  const options = { ...base, run: { ...base.run, redactKey } };
  const startedMs = systemClock.now();
  const { code, summary, run } = await runAndReport(options, logger, {
    json: args.json,
    failOnLoss: settings['fail-on-loss'],
    onProgress: display ? (p) => display.show(p) : undefined,
  }).finally(() => display?.stop());
  // The token worked: from now on its age is known (for --auto-refresh and expiry warnings).
  const { stateDir } = options.run;
  await rememberFirstSeen(stateDir, token.token, startedMs);
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
