import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureDirSync } from '../output-path.js';
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

async function load(stateDir: string): Promise<Record<string, TokenLifetime>> {
  try {
    const parsed = JSON.parse(await readFile(join(stateDir, FILE), 'utf8')) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, TokenLifetime>) : {};
  } catch {
    return {};
  }
}

export async function tokenLifetime(stateDir: string, token: string): Promise<TokenLifetime | undefined> {
  return (await load(stateDir))[tokenDigest(token)];
}

export async function recordTokenLifetime(
  stateDir: string,
  token: string,
  lifetime: TokenLifetime,
): Promise<void> {
  const all = await load(stateDir);
  all[tokenDigest(token)] = lifetime;
  ensureDirSync(stateDir);
  const tmp = join(stateDir, `.${FILE}.tmp-${process.pid}`);
  await writeFile(tmp, `${JSON.stringify(all, null, 2)}\n`);
  await rename(tmp, join(stateDir, FILE));
}
