import { z } from 'zod';
import type { GraphClient } from './client.js';
import { parseWire } from './wire-shapes.js';

/**
 * The account's webhook subscription (Instagram API with Instagram Login): `POST /me/subscribed_apps
 * ?subscribed_fields=messages,…` subscribes the app to the account's events and answers `{success: true}`;
 * `GET /me/subscribed_apps` lists what is subscribed (its exact shape is a GUESS: `data[].subscribed_fields`).
 * Source: developers.facebook.com/docs/instagram-platform/webhooks.
 */
export const MESSAGING_FIELDS = ['messages', 'message_reactions', 'message_edit', 'messaging_seen'] as const;

const subscribeAnswer = z.looseObject({ success: z.boolean() });
const statusAnswer = z.looseObject({
  data: z.array(z.looseObject({ subscribed_fields: z.array(z.string()).optional() })),
});

export async function subscribeApp(client: GraphClient, fields: readonly string[]): Promise<boolean> {
  const body = await client.post(
    'subscribed_apps',
    client.url('me/subscribed_apps', { subscribed_fields: fields.join(',') }),
  );
  return parseWire(subscribeAnswer, body, 'the subscription answer').success;
}

/** The fields the app is subscribed to for the account (empty when it is not subscribed). */
export async function subscribedFields(client: GraphClient): Promise<string[]> {
  const body = await client.get('subscribed_apps', client.url('me/subscribed_apps'));
  const answer = parseWire(statusAnswer, body, 'the subscription status');
  return [...new Set(answer.data.flatMap((d) => d.subscribed_fields ?? []))];
}
