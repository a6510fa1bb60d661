import type { Clock } from '../../clock.js';
import { GraphClient, type GraphClientSettings } from '../../graph/client.js';
import { subscribedFields, subscribeApp } from '../../graph/webhook-subscription.js';
import type { Logger } from '../../logger.js';

export { MESSAGING_FIELDS } from '../../graph/webhook-subscription.js';

interface Deps {
  clock: Clock;
  random: () => number;
  logger: Logger;
}

/** `ig-export webhook subscribe`: subscribes the app to the account's messaging events; returns what is subscribed. */
export async function subscribeWebhooks(
  settings: GraphClientSettings,
  fields: readonly string[],
  deps: Deps,
): Promise<string[]> {
  const client = new GraphClient({ ...settings, ...deps });
  const ok = await subscribeApp(client, fields);
  if (!ok) throw new Error('Meta answered the subscription with success: false');
  return subscribedFields(client);
}

/** `ig-export webhook status`: the fields the app is subscribed to for the account (one call). */
export async function webhookStatus(settings: GraphClientSettings, deps: Deps): Promise<string[]> {
  return subscribedFields(new GraphClient({ ...settings, ...deps }));
}
