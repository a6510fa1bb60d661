import { knownSecrets, readAccessToken, TOKEN_ENV } from '../access-token.js';
import { createCliLogger, type LogLevel } from '../cli-logger.js';
import { UsageError, type CommandResult } from '../exit-codes.js';
import { exportAccount } from '../export-account.js';
import { loadConfigFile, mergeSettings } from '../export-settings.js';
import { exportFleet } from '../fleet-export.js';
import { parseAccountNames, parseShard, selectAccounts } from '../fleet-selection.js';
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
  const names = args.accounts === undefined ? undefined : parseAccountNames(args.accounts);
  const shard = args.shard === undefined ? undefined : parseShard(args.shard);
  if (config.accounts === undefined && (names !== undefined || shard !== undefined))
    throw new UsageError(
      '--accounts and --shard choose among the "accounts" listed in a --config file, and none is given',
    );
  if (config.accounts !== undefined) {
    const single = (['account', 'token-file', 'user-id'] as const).filter((k) => args[k] !== undefined);
    if (single.length > 0)
      throw new UsageError(
        `${single.map((k) => `--${k}`).join(', ')} cannot be used with a config file that lists "accounts": ` +
          'choose accounts with --accounts <names> instead',
      );
  }
  // A live frame on a terminal; cron (no TTY) and --quiet keep plain log lines.
  const display = process.stderr.isTTY && !settings.quiet ? new ProgressDisplay() : undefined;
  const logger = createCliLogger(
    args['log-level'],
    () => knownSecrets(),
    display ? (line) => display.log(line) : undefined,
  );
  try {
    if (config.accounts !== undefined) {
      const accounts = selectAccounts(config.accounts, names, shard);
      return await withStopSignals(logger, args.json, (signal) =>
        exportFleet(settings, accounts, {
          logger,
          json: args.json,
          signal,
          display,
          selection: {
            listed: config.accounts?.length ?? 0,
            names: names ?? null,
            shard: args.shard ?? null,
          },
        }),
      );
    }
    const token = await readAccessToken(settings['token-file'], process.env);
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
