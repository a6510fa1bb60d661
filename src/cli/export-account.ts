import { systemClock } from '../clock.js';
import { GraphAuthError } from '../graph/errors.js';
import { RecordingExistsError, startRecording, type ExchangeRecorder } from '../graph/exchange-recording.js';
import { sendGet } from '../graph/transport.js';
import type { Logger } from '../logger.js';
import { asOutputPathError, OutputPathError } from '../output-path.js';
import type { OnProgress } from '../pipeline/extensions/export-progress.js';
import type { ExportOptions } from '../pipeline/run-export.js';
import { accountLockDir } from '../snapshots/layout.js';
import {
  expiryWarning,
  knownLifetime,
  refreshDue,
  rememberFirstSeen,
  renewToken,
} from '../pipeline/account-tools/token-lifecycle.js';
import { withRunLock } from '../state/run-lock.js';
import { readRedactKey, rememberSecret, TOKEN_ENV } from './access-token.js';
import { UsageError } from './exit-codes.js';
import { toExportOptions, type ExportSettings } from './export-settings.js';
import { describeFailure } from './failure-report.js';
import { runAndReport } from './run-and-report.js';
import { systemRandom } from './system-random.js';
import { replaceTokenFile } from './token-file.js';

export interface AccountToken {
  token: string;
  source: 'env' | 'file';
}

/**
 * The token the run uses: with --auto-refresh, renewed first when due (written back to its file); otherwise a
 * warning when its recorded expiry is near. A refresh that fails for any reason but a dead token leaves the run on
 * the current token, with a warning.
 */
async function tokenForRun(
  settings: ExportSettings,
  token: AccountToken,
  logger: Logger,
  inFleet: boolean,
): Promise<AccountToken> {
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
      inFleet
        ? '--auto-refresh needs the token in a file: give this account token_file instead of token_env (the renewed token is written there)'
        : `--auto-refresh needs --token-file: the renewed token is written there (${TOKEN_ENV} cannot be updated)`,
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

/** `--record <dir>`: the exchanges of the run go to `<dir>/exchanges.ndjson` (refused when it holds one). */
function recordingFor(
  settings: ExportSettings,
  baseUrl: string,
  redactKey: string | undefined,
): ExchangeRecorder | undefined {
  const dir = settings.record;
  if (dir === undefined) return undefined;
  try {
    return startRecording(dir, new URL(baseUrl).origin, redactKey);
  } catch (e) {
    if (e instanceof RecordingExistsError) throw new UsageError(e.message);
    const path = asOutputPathError(e);
    throw path ? new OutputPathError(path.path, path.code, path.action, '--record') : e;
  }
}

export interface AccountRunOptions {
  json: boolean;
  signal: AbortSignal;
  onProgress?: OnProgress | undefined;
  /** The account's name in a fleet run. */
  label?: string | undefined;
}

/**
 * One account's export as the `export` command runs it, alone or in a fleet: the token (refreshed when asked), the
 * run, the token's first-seen record, and `--compact` afterwards (whose failure is a warning, never a failed run).
 * Returns the exit code, the `--json` summary and the text summary, for the caller to print when the live display
 * is out of the way.
 */
export async function exportAccount(
  settings: ExportSettings,
  accountToken: AccountToken,
  logger: Logger,
  report: AccountRunOptions,
): Promise<{ code: number; summary: Record<string, unknown>; text: string }> {
  const token = await tokenForRun(settings, accountToken, logger, report.label !== undefined);
  const redactKey = settings.redact
    ? await readRedactKey(settings['redact-key-file'], process.env)
    : undefined;
  const base = toExportOptions(settings, token);
  const options = { ...base, run: { ...base.run, redactKey } };
  const startedMs = systemClock.now();
  const recorder = recordingFor(settings, options.client.baseUrl, redactKey);
  const { code, summary, run, text } = await runAndReport(options, logger, {
    json: report.json,
    signal: report.signal,
    failOnLoss: settings['fail-on-loss'],
    onProgress: report.onProgress,
    label: report.label,
    transport: recorder?.wrap(sendGet),
  });
  if (recorder) logger.info(`every exchange of the run was recorded in ${recorder.file}`);
  // The token worked: from now on its age is known (for --auto-refresh and expiry warnings).
  const { stateDir } = options.run;
  await rememberFirstSeen(stateDir, token.token, startedMs);
  if (settings.compact && run.snapshotDirs.length > 0) {
    // Stopped by a signal: stop now; the next compaction folds what this run published.
    const failure = report.signal.aborted
      ? { kind: 'interrupted', message: 'stopped by a signal' }
      : await compactAfterExport(settings, options, run.accountId, logger, report.signal);
    if (failure) {
      logger.warn(`the current view was not rebuilt (${failure.message}); run "ig-export compact" later`);
      summary['compactError'] = failure;
    }
  }
  return { code, summary, text };
}

/**
 * `--compact` after an export: the account's current view, under its lock. A failure is returned, not thrown: the
 * export itself was published, and a failed compaction must not turn it into a failed run.
 */
async function compactAfterExport(
  settings: ExportSettings,
  options: ExportOptions,
  accountId: string,
  logger: Logger,
  signal: AbortSignal,
): Promise<{ kind: string; message: string } | undefined> {
  try {
    // Loaded only when asked for: DuckDB is a large native module, and a locked run must answer at once.
    const { compactAccount } = await import('../snapshots/compact.js');
    const { foldedNote } = await import('./commands/compact.js');
    const now = (): number => systemClock.now();
    const current = await withRunLock(accountLockDir(options.run.stateDir, accountId), now, () =>
      compactAccount(options.run.outputRoot, accountId, options.parquet, now, {
        stateDir: options.run.stateDir,
        duckdbMemoryMb: settings['duckdb-memory'],
        signal,
      }),
    );
    logger.info(
      `current view rebuilt from ${current.snapshots} snapshots${foldedNote(current)}: ${current.dir}`,
    );
    return undefined;
  } catch (e) {
    // Stopped meanwhile: the fold stopped at once, and the view is as it was.
    if (signal.aborted) return { kind: 'interrupted', message: 'stopped by a signal while compacting' };
    const failure = describeFailure(e);
    return { kind: failure.kind, message: failure.message };
  }
}
