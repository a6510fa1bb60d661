import { readFile, stat } from 'node:fs/promises';
import { UsageError } from './exit-codes.js';

export const TOKEN_ENV = 'IG_ACCESS_TOKEN';
export const REDACT_KEY_ENV = 'IG_EXPORT_REDACT_KEY';
/** `listen`: the Meta app's secret, which signs webhook deliveries. */
export const APP_SECRET_ENV = 'IG_APP_SECRET';
/** `listen`: the verify token of the webhook subscription handshake. */
export const VERIFY_TOKEN_ENV = 'IG_WEBHOOK_VERIFY_TOKEN';

const secrets = new Set<string>();

/** Every secret this process has read (tokens, the redaction key), for the last-chance redaction of errors. */
export function knownSecrets(): string[] {
  const env = [TOKEN_ENV, REDACT_KEY_ENV, APP_SECRET_ENV, VERIFY_TOKEN_ENV].flatMap(
    (name) => process.env[name]?.trim() ?? [],
  );
  return [...secrets, ...env.filter((v) => v !== '')];
}

/** A secret this process learnt otherwise (a refreshed token): it must never be printed either. */
export function rememberSecret(secret: string): void {
  secrets.add(secret);
}

/** What to do when a secret's file cannot be read, by the error's code. */
const UNREADABLE_FIX: Record<string, string> = {
  ENOENT: 'no such file; check the path',
  EACCES: 'permission denied; make the file readable by the user this runs as',
  EISDIR: 'that is a folder; give the file that holds the secret',
};

/** A secret held in a file (trimmed); a missing or empty file is a usage error naming the flag. */
async function readSecretFile(path: string, flag: string): Promise<string> {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new UsageError(
      `cannot read ${flag} ${path} (${code}): ${UNREADABLE_FIX[code] ?? 'check the path'}`,
    );
  }
  const secret = raw.trim();
  if (secret === '')
    throw new UsageError(`${flag} ${path} is empty: put the secret in it, alone on one line`);
  secrets.add(secret);
  return secret;
}

/** A warning when a secret's file can be read by other users of the machine (group or others have a permission). */
export async function looseMode(path: string, flag: string): Promise<string | undefined> {
  const mode = await stat(path).then(
    (s) => s.mode & 0o777,
    () => undefined,
  );
  if (mode === undefined || (mode & 0o077) === 0) return undefined;
  return `${flag} ${path} can be read by other users of this machine (mode ${mode.toString(8)}): chmod 600 ${path}`;
}

/** A secret from `flag`'s file or the environment variable `envName` (never a flag value); `what` names it in errors. */
export async function readSecret(
  file: string | undefined,
  flag: string,
  envName: string,
  what: string,
): Promise<string> {
  const secret = file !== undefined ? await readSecretFile(file, flag) : env(envName);
  if (!secret) throw new UsageError(`${what} is missing: set ${envName} or pass ${flag} <path>`);
  if (secret.length < 8) throw new UsageError(`${what} is too short: use at least 8 characters`);
  secrets.add(secret);
  return secret;
}

const env = (name: string): string | undefined => process.env[name]?.trim() || undefined;

/** A token is one word of printable characters: anything else is a pasting mistake that would break the header. */
function checkedToken(token: string, where: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(token))
    throw new UsageError(
      `the token in ${where} holds whitespace or control characters: it must hold the token alone, on one line`,
    );
  // Quotes copied with the token (from a .env file or a JSON answer) would only be refused by Meta, for one call.
  if (/^["'`]|["'`]$/.test(token))
    throw new UsageError(
      `the token in ${where} is wrapped in quotes: remove them, the token is what is between`,
    );
  return token;
}

/**
 * The `--redact` key, from `--redact-key-file` or IG_EXPORT_REDACT_KEY (never a flag value). At least 16
 * characters: the hashes are only as hard to reverse as the key is to guess.
 */
export async function readRedactKey(keyFile: string | undefined, env: NodeJS.ProcessEnv): Promise<string> {
  const key =
    keyFile !== undefined ? await readSecretFile(keyFile, '--redact-key-file') : env[REDACT_KEY_ENV]?.trim();
  if (!key)
    throw new UsageError(
      `--redact needs a key: set ${REDACT_KEY_ENV} or pass --redact-key-file <path> (keep the same key to keep joins across exports)`,
    );
  if (key.length < 16)
    throw new UsageError('the redaction key is too short: use at least 16 random characters');
  secrets.add(key);
  return key;
}

/** A token as read: where from (`label` names the variable or the file, for advice), and a warning about its file. */
export interface AccessToken {
  token: string;
  source: 'env' | 'file';
  label?: string;
  warning?: string;
}

/**
 * The access token comes from `--token-file` or an environment variable (IG_ACCESS_TOKEN, or the `token_env` of a
 * fleet config's account), never from a flag value (argv shows up in `ps`, shell history and cron mails).
 */
export async function readAccessToken(
  tokenFile: string | undefined,
  env: NodeJS.ProcessEnv,
  envName = TOKEN_ENV,
  /** What named the file, for messages: the flag, or a fleet account's `token_file` key. */
  fileKey = '--token-file',
): Promise<AccessToken> {
  if (tokenFile !== undefined) {
    const token = await readSecretFile(tokenFile, fileKey);
    const warning = await looseMode(tokenFile, fileKey);
    return {
      token: checkedToken(token, `${fileKey} ${tokenFile}`),
      source: 'file',
      label: `${fileKey} ${tokenFile}`,
      ...(warning === undefined ? {} : { warning }),
    };
  }
  const token = env[envName]?.trim();
  if (token) {
    secrets.add(token);
    return { token: checkedToken(token, envName), source: 'env', label: envName };
  }
  throw new UsageError(
    envName === TOKEN_ENV
      ? `no access token: set ${TOKEN_ENV} or pass --token-file <path> (a file holding only the token)`
      : `no access token: the environment variable ${envName} (its token_env) is not set or empty`,
  );
}
