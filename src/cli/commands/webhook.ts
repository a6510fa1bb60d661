import { systemClock } from '../../clock.js';
import {
  MESSAGING_FIELDS,
  subscribeWebhooks,
  webhookStatus,
} from '../../pipeline/account-tools/webhook-setup.js';
import { knownSecrets, readAccessToken } from '../access-token.js';
import { createCliLogger, type LogLevel } from '../cli-logger.js';
import { UsageError, type CommandResult } from '../exit-codes.js';
import { mergeSettings, toExportOptions } from '../export-settings.js';
import { systemRandom } from '../system-random.js';

export interface WebhookArgs {
  action: string;
  fields: string;
  'token-file'?: string | undefined;
  'base-url'?: string | undefined;
  'api-version'?: string | undefined;
  json: boolean;
  'log-level': LogLevel;
}

/**
 * `ig-export webhook subscribe` subscribes the app to the account's messaging webhooks (one POST, then one GET to
 * show the result); `webhook status` shows what is subscribed (one GET). The token comes from --token-file or
 * IG_ACCESS_TOKEN, as for export.
 */
export async function webhookCommand(args: WebhookArgs): Promise<CommandResult> {
  const fields = args.fields
    .split(',')
    .map((f) => f.trim())
    .filter((f) => f !== '');
  if (fields.length === 0 || fields.some((f) => !/^[a-z_]+$/.test(f)))
    throw new UsageError(
      `--fields ${args.fields}: a comma-separated list such as ${MESSAGING_FIELDS.join(',')}`,
    );
  const settings = mergeSettings(
    {},
    { 'token-file': args['token-file'], 'base-url': args['base-url'], 'api-version': args['api-version'] },
  );
  const token = await readAccessToken(settings['token-file'], process.env);
  const { client } = toExportOptions(settings, token);
  const deps = {
    clock: systemClock,
    random: systemRandom,
    logger: createCliLogger(args['log-level'], () => knownSecrets()),
  };
  const subscribed =
    args.action === 'subscribe'
      ? await subscribeWebhooks(client, fields, deps)
      : await webhookStatus(client, deps);
  const missing = MESSAGING_FIELDS.filter((f) => !subscribed.includes(f));
  if (!args.json) {
    process.stdout.write(
      subscribed.length === 0
        ? 'The app is not subscribed to this account\'s webhooks: run "ig-export webhook subscribe".\n'
        : `Subscribed fields: ${subscribed.join(', ')}` +
            (missing.length === 0 ? '\n' : ` (not subscribed: ${missing.join(', ')})\n`),
    );
  }
  return { code: 0, summary: { status: 'complete', action: args.action, subscribed, missing } };
}
