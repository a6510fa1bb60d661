import { systemRandom } from '../system-random.js';
import { systemClock } from '../../clock.js';
import { GraphAuthError, GraphRequestError } from '../../graph/errors.js';
import { renewToken } from '../../pipeline/account-tools/token-lifecycle.js';
import { knownSecrets, readAccessToken, rememberSecret } from '../access-token.js';
import { createCliLogger, type LogLevel } from '../cli-logger.js';
import { UsageError, type CommandResult } from '../exit-codes.js';
import { mergeSettings, toExportOptions } from '../export-settings.js';
import { replaceTokenFile } from '../token-file.js';

export interface TokenArgs {
  action: string;
  'token-file'?: string | undefined;
  'base-url'?: string | undefined;
  'api-version'?: string | undefined;
  output?: string | undefined;
  'state-dir'?: string | undefined;
  json: boolean;
  'log-level': LogLevel;
}

/**
 * `ig-export token refresh --token-file f`: exchanges the token for a new one valid 60 days (one call), writes it
 * over the file atomically (mode 600), and records its expiry in the state directory. Only a token file can be
 * refreshed: an environment variable cannot be rewritten for the next run.
 */
export async function tokenCommand(args: TokenArgs): Promise<CommandResult> {
  if (args.action !== 'refresh')
    throw new UsageError(`unknown token action ${args.action}; try: token refresh`);
  const tokenFile = args['token-file'];
  if (tokenFile === undefined)
    throw new UsageError(
      'token refresh needs --token-file <path>: the new token is written there (an environment variable cannot be updated)',
    );
  const settings = mergeSettings(
    {},
    {
      'token-file': tokenFile,
      'base-url': args['base-url'],
      'api-version': args['api-version'],
      output: args.output,
      'state-dir': args['state-dir'],
    },
  );
  const token = await readAccessToken(tokenFile, {});
  const options = toExportOptions(settings, token);
  const logger = createCliLogger(args['log-level'], () => knownSecrets());
  const renewed = await renewToken(options.client, options.run.stateDir, {
    clock: systemClock,
    random: systemRandom,
    logger,
  }).catch((e: unknown) => {
    // Meta refusing the refresh (not a network problem) is about the token: exit 3, with what to do.
    if (e instanceof GraphRequestError && e.status !== undefined)
      throw new GraphAuthError(
        e,
        'it could not be refreshed; a token can be refreshed once it is at least 24 hours old and while it has not expired (an expired one must be created anew)',
      );
    throw e;
  });
  rememberSecret(renewed.token);
  await replaceTokenFile(tokenFile, renewed.token);
  const expiresAt = new Date(renewed.expiresMs).toISOString();
  if (!args.json) process.stdout.write(`Token refreshed in ${tokenFile}; it expires at ${expiresAt}.\n`);
  return { code: 0, summary: { status: 'complete', tokenFile, expiresAt } };
}
