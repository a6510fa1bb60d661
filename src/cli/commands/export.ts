import { knownSecrets, readAccessToken, TOKEN_ENV } from '../access-token.js';
import { createCliLogger, type LogLevel } from '../cli-logger.js';
import type { CommandResult } from '../exit-codes.js';
import { exportAccount } from '../export-account.js';
import { loadConfigFile, mergeSettings } from '../export-settings.js';
import { exportFleet } from '../fleet-export.js';
import { fleetFrom, parseAccountNames } from '../fleet-selection.js';
import { checkDuckDbMemory } from '../option-ranges.js';
import { ProgressDisplay } from '../progress-display.js';
import { withStopSignals } from '../stop-signals.js';

export interface ExportArgs {
  config?: string | undefined;
  accounts?: string | undefined;
  shard?: string | undefined;
  json: boolean;
  'log-level': LogLevel;
  [flag: string]: unknown;
}

/**
 * `ig-export export`: settings from defaults ← config file ← flags. One account (its token from IG_ACCESS_TOKEN or
 * --token-file), or, when the config file lists `accounts`, every selected account of the fleet.
 */
export async function exportCommand(args: ExportArgs): Promise<CommandResult> {
  const config =
    args.config === undefined ? { settings: {}, accounts: undefined } : await loadConfigFile(args.config);
  const settings = mergeSettings(config.settings, args);
  const fleet = fleetFrom(config, args);
  if (settings.compact) checkDuckDbMemory(settings['duckdb-memory']);
  // A live frame on a terminal; cron (no TTY) and --quiet keep plain log lines.
  const display = process.stderr.isTTY && !settings.quiet ? new ProgressDisplay() : undefined;
  const logger = createCliLogger(
    args['log-level'],
    () => knownSecrets(),
    display ? (line) => display.log(line) : undefined,
  );
  try {
    if (fleet !== undefined) {
      return await withStopSignals(logger, args.json, (signal) =>
        exportFleet(settings, fleet, {
          logger,
          json: args.json,
          signal,
          display,
          selection: {
            listed: config.accounts?.length ?? 0,
            names: args.accounts === undefined ? null : parseAccountNames(args.accounts),
            shard: args.shard ?? null,
          },
        }),
      );
    }
    const token = await readAccessToken(settings['token-file'], process.env);
    if (token.warning !== undefined) logger.warn(token.warning);
    if (token.source === 'file' && process.env[TOKEN_ENV]?.trim())
      logger.warn(`both --token-file and ${TOKEN_ENV} are set: using the token from --token-file`);
    const { code, summary, text } = await withStopSignals(logger, args.json, (signal) =>
      exportAccount(settings, token, logger, {
        json: args.json,
        signal,
        onProgress: display ? (p) => display.show(p) : undefined,
      }),
    );
    // The final frame stays on screen, above the summary.
    display?.stop();
    process.stdout.write(text);
    return { code, summary };
  } finally {
    display?.stop();
  }
}
