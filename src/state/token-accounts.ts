import { createHash } from 'node:crypto';
import { readDigestMap, updateDigestMap } from './digest-map-file.js';

/**
 * Which account a token belongs to, remembered in the state directory so that a run with `--account me` can take
 * the account's lock before making any call. Tokens are stored as a truncated SHA-256, never as themselves: the
 * file tells which token-digest maps to which account id and nothing else.
 */
const FILE = 'token-accounts.json';

export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 24);
}

export async function accountForToken(stateDir: string, token: string): Promise<string | undefined> {
  // Missing or unreadable: the run resolves the account with one call, as on a first run.
  const value = (await readDigestMap(stateDir, FILE))[tokenDigest(token)];
  return typeof value === 'string' ? value : undefined;
}

export async function rememberAccountForToken(
  stateDir: string,
  token: string,
  accountId: string,
): Promise<void> {
  await updateDigestMap(stateDir, FILE, tokenDigest(token), (current) =>
    current === accountId ? undefined : accountId,
  );
}
