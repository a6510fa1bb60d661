import type { Clock } from '../../clock.js';
import { GraphClient, type GraphClientSettings } from '../../graph/client.js';
import { refreshAccessToken } from '../../graph/token-refresh.js';
import type { Logger } from '../../logger.js';
import {
  recordTokenLifetime,
  recordTokenLifetimeIfUnknown,
  tokenLifetime,
  type TokenLifetime,
} from '../../state/token-lifetimes.js';

/** Meta refreshes only a token at least this old. */
export const REFRESH_MIN_AGE_MS = 24 * 3_600_000;
/** `--auto-refresh` renews a token expiring within this (integrations such as Chatwoot use 10 days). */
export const REFRESH_WITHIN_MS = 10 * 86_400_000;
/** Without `--auto-refresh`, a run warns when the recorded expiry is this close. */
export const WARN_WITHIN_MS = 7 * 86_400_000;

const days = (ms: number): string => `${Math.max(0, Math.floor(ms / 86_400_000))} days`;

/**
 * Whether `--auto-refresh` should renew the token now. A token never seen before is refreshed (its age and expiry are
 * unknown; a refresh tells the expiry, and Meta refuses it harmlessly when the token is too young).
 */
export function refreshDue(lifetime: TokenLifetime | undefined, nowMs: number): boolean {
  if (lifetime === undefined) return true;
  if (nowMs - lifetime.obtainedMs < REFRESH_MIN_AGE_MS) return false;
  return lifetime.expiresMs === undefined || lifetime.expiresMs - nowMs <= REFRESH_WITHIN_MS;
}

/** A warning when the recorded expiry is near (or past), for runs without `--auto-refresh`. */
export function expiryWarning(lifetime: TokenLifetime | undefined, nowMs: number): string | undefined {
  const expires = lifetime?.expiresMs;
  if (expires === undefined || expires - nowMs > WARN_WITHIN_MS) return undefined;
  const when = new Date(expires).toISOString();
  return expires <= nowMs
    ? `the access token expired at ${when}: create a new long-lived token`
    : `the access token expires in ${days(expires - nowMs)} (${when}): run "ig-export token refresh --token-file <file>" or export with --auto-refresh`;
}

/** What the state knows of the token (undefined for a token never seen). */
export function knownLifetime(stateDir: string, token: string): Promise<TokenLifetime | undefined> {
  return tokenLifetime(stateDir, token);
}

/** Records a token seen for the first time as obtained now, so that its age is known later. */
export async function rememberFirstSeen(stateDir: string, token: string, nowMs: number): Promise<void> {
  await recordTokenLifetimeIfUnknown(stateDir, token, { obtainedMs: nowMs, expiresMs: undefined });
}

/** Refreshes the token with one call and records the new one's lifetime; returns it (the caller stores the token). */
export async function renewToken(
  settings: GraphClientSettings,
  stateDir: string,
  deps: { clock: Clock; random: () => number; logger: Logger; signal?: AbortSignal | undefined },
): Promise<{ token: string; expiresMs: number }> {
  const client = new GraphClient({ ...settings, ...deps });
  const { token, expiresInSeconds } = await refreshAccessToken(client);
  const now = deps.clock.now();
  const expiresMs = now + expiresInSeconds * 1000;
  await recordTokenLifetime(stateDir, token, { obtainedMs: now, expiresMs });
  return { token, expiresMs };
}
