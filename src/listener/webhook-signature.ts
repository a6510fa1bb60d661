import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Meta signs every webhook delivery: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, keyed with the
 * app secret>`. The comparison is constant-time; a missing, malformed or different signature is refused.
 */
export function signatureOf(body: Buffer, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(body).digest('hex')}`;
}

export function validSignature(body: Buffer, header: string | undefined, appSecret: string): boolean {
  if (header === undefined || !/^sha256=[0-9a-f]{64}$/i.test(header)) return false;
  const expected = Buffer.from(signatureOf(body, appSecret), 'latin1');
  const given = Buffer.from(`sha256=${header.slice(7).toLowerCase()}`, 'latin1');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The verify token of the subscription handshake, compared in constant time. */
export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
