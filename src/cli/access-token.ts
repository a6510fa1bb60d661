import { readFile } from 'node:fs/promises';
import { UsageError } from './exit-codes.js';

export const TOKEN_ENV = 'IG_ACCESS_TOKEN';

const secrets = new Set<string>();

/** Every token this process has read (from the environment or a file), for the last-chance redaction of errors. */
export function knownSecrets(): string[] {
  const env = process.env[TOKEN_ENV]?.trim();
  return [...secrets, ...(env ? [env] : [])];
}

/**
 * The access token comes from `--token-file` or the IG_ACCESS_TOKEN environment variable, never from a flag value
 * (argv shows up in `ps`, shell history and cron mails).
 */
export async function readAccessToken(
  tokenFile: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<{ token: string; source: 'env' | 'file' }> {
  if (tokenFile !== undefined) {
    let raw: string;
    try {
      raw = await readFile(tokenFile, 'utf8');
    } catch (e) {
      throw new UsageError(
        `cannot read --token-file ${tokenFile}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      );
    }
    const token = raw.trim();
    if (token === '') throw new UsageError(`--token-file ${tokenFile} is empty`);
    secrets.add(token);
    return { token, source: 'file' };
  }
  const token = env[TOKEN_ENV]?.trim();
  if (token) {
    secrets.add(token);
    return { token, source: 'env' };
  }
  throw new UsageError(
    `no access token: set ${TOKEN_ENV} or pass --token-file <path> (a file holding only the token)`,
  );
}
