import { readDigestMap, updateDigestMap } from './digest-map-file.js';
import { tokenDigest } from './token-accounts.js';

/**
 * What is known of a token's life, by its digest (never the token): when ig-export first saw it or obtained it by
 * refreshing, and when it expires (Meta tells only at refresh time: `expires_in`). Kept in the state directory.
 */
export interface TokenLifetime {
  /** When the token was obtained (a refresh), or first seen when it came from elsewhere. */
  obtainedMs: number;
  /** Its expiry, when known (from a refresh's `expires_in`). */
  expiresMs: number | undefined;
}

const FILE = 'token-lifetimes.json';

function asLifetime(value: unknown): TokenLifetime | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { obtainedMs, expiresMs } = value as Record<string, unknown>;
  if (typeof obtainedMs !== 'number') return undefined;
  return { obtainedMs, expiresMs: typeof expiresMs === 'number' ? expiresMs : undefined };
}

export async function tokenLifetime(stateDir: string, token: string): Promise<TokenLifetime | undefined> {
  return asLifetime((await readDigestMap(stateDir, FILE))[tokenDigest(token)]);
}

export async function recordTokenLifetime(
  stateDir: string,
  token: string,
  lifetime: TokenLifetime,
): Promise<void> {
  await updateDigestMap(stateDir, FILE, tokenDigest(token), () => lifetime);
}

/** Records `lifetime` only when nothing is known of the token yet (one atomic step, safe against concurrent runs). */
export async function recordTokenLifetimeIfUnknown(
  stateDir: string,
  token: string,
  lifetime: TokenLifetime,
): Promise<void> {
  await updateDigestMap(stateDir, FILE, tokenDigest(token), (current) =>
    asLifetime(current) === undefined ? lifetime : undefined,
  );
}
