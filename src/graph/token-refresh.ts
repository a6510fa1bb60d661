import { z } from 'zod';
import type { GraphClient } from './client.js';
import { parseWire } from './wire-shapes.js';

const refreshAnswer = z.looseObject({
  access_token: z.string().min(1),
  expires_in: z.number().positive(),
});

/**
 * Meta's Instagram token refresh (`GET /refresh_access_token?grant_type=ig_refresh_token`, unversioned): a
 * long-lived token at least 24 hours old and not expired gets a new one, valid 60 days. The token travels in the
 * Authorization header, as on every call, never in the URL. One call, with the client's policies.
 */
export async function refreshAccessToken(
  client: GraphClient,
): Promise<{ token: string; expiresInSeconds: number }> {
  const body = await client.get(
    'refresh',
    client.rootUrl('refresh_access_token', { grant_type: 'ig_refresh_token' }),
  );
  const answer = parseWire(refreshAnswer, body, 'the token refresh answer');
  return { token: answer.access_token, expiresInSeconds: answer.expires_in };
}
