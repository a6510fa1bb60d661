import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { ExportOptions } from '../pipeline/run-export.js';
import { DEFAULT_PARQUET_OPTIONS } from '../writers/parquet-options.js';
import { DETAIL_WINDOW, LISTING_OVERLAP_MS } from '../graph/meta-limits.js';
import { TABLE_FORMATS, type TableFormat } from '../snapshots/layout.js';
import { EXPORT_FLAGS } from './definitions/export-flags.js';
import { isUnexpandedHome, UNEXPANDED_HOME } from './definitions/path-options.js';
import { stateDirOf } from './definitions/shared-options.js';
import { UsageError } from './exit-codes.js';
import { DUCKDB_MEMORY_MB } from './option-ranges.js';
import { issuesLine, plainIssue } from './issue-wording.js';

type FlagName = keyof typeof EXPORT_FLAGS;

const positiveInt = z.number().int().positive();
/** A file or folder path, in a flag or the config file. */
const pathValue = z
  .string()
  .min(1)
  .refine((path) => !isUnexpandedHome(path), UNEXPANDED_HOME);
const HOUR_MS = 3_600_000;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const isoDateTime = z.iso.datetime({ offset: true });

/** `YYYY-MM-DD` names a day that exists (Date.UTC would roll 2026-02-30 over into March). */
function calendarDate(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

/** `2026-01-31` (midnight UTC) or an ISO 8601 date-time with `Z` or an offset, as epoch ms; undefined otherwise. */
export function parseInstant(text: string): number | undefined {
  if (!calendarDate(text.slice(0, 10))) return undefined; // 2026-02-30 is refused, not read as March 2
  if (DATE_ONLY.test(text) || isoDateTime.safeParse(text).success) {
    const ms = Date.parse(DATE_ONLY.test(text) ? `${text}T00:00:00Z` : text);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

const instant = z
  .string()
  .refine(
    (s) => parseInstant(s) !== undefined,
    'must be a date (2026-01-31, a day that exists) or an ISO 8601 date-time with Z or an offset (2026-01-31T12:00:00Z)',
  );
const settingsShape = {
  account: z.string().regex(/^(me|\d+)$/, 'must be "me" or a numeric account id'),
  'user-id': z
    .string()
    .regex(
      /^\d+$/,
      'must be a numeric Instagram-scoped id, not a username: a full export has it, beside participant_username, in the conversations table (participant_id)',
    )
    .optional(),
  'base-url': z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL, e.g. https://graph.instagram.com' })
    .refine(
      (u) => !URL.canParse(u) || !/(^|\/)v\d+(\.\d+)?(\/|$)/.test(new URL(u).pathname),
      'holds an API version in its path: give the host only (e.g. https://graph.instagram.com); the version is --api-version',
    ),
  'api-version': z.string().regex(/^v\d+\.\d+$/, 'must look like v23.0'),
  'token-file': pathValue.optional(),
  output: pathValue,
  // Below 0.01 the pacing interval overflows Node's timers (the run would go unpaced).
  'max-rps': z.number().min(0.01).max(1000),
  'page-size': positiveInt.max(1000),
  'conversation-concurrency': positiveInt.max(64),
  'account-concurrency': positiveInt.max(1000),
  'hydrate-concurrency': positiveInt.max(64),
  retries: z.number().int().min(0).max(50),
  // Times are bounded by an hour: Node's timers overflow (and fire at once) beyond 2^31 ms.
  'timeout-ms': positiveInt.max(HOUR_MS),
  'backoff-base-ms': z.number().int().min(0).max(HOUR_MS),
  'backoff-max-ms': z.number().int().min(0).max(HOUR_MS),
  'throttle-wait-ms': z.number().int().min(0).max(HOUR_MS),
  compression: z.enum(['zstd', 'snappy', 'gzip', 'none']),
  formats: z
    .string()
    .transform((s) => [...new Set(s.split(',').map((f) => f.trim()))])
    .pipe(
      z
        .array(z.string())
        // One message for the whole flag (as `--formats`, never one per item of the list it became).
        .superRefine((fs, ctx) => {
          const unknown = fs.filter((f) => !(TABLE_FORMATS as readonly string[]).includes(f));
          const message =
            unknown.length > 0
              ? `${unknown.map((f) => JSON.stringify(f)).join(', ')} ${unknown.length === 1 ? 'is not a format' : 'are not formats'}: the formats are ${TABLE_FORMATS.join(', ')}`
              : fs.includes('parquet')
                ? undefined
                : 'must include parquet (compact and import-dyi read it): parquet or ndjson,parquet';
          if (message !== undefined) ctx.addIssue({ code: 'custom', message });
        })
        .transform((fs) => fs as TableFormat[]),
    ),
  full: z.boolean(),
  'state-dir': pathValue.optional(),
  'checkpoint-minutes': z.number().min(0.1).max(1440),
  'checkpoint-conversations': z.number().int().min(0),
  compact: z.boolean(),
  'duckdb-memory': z.number().int().min(DUCKDB_MEMORY_MB.min).max(DUCKDB_MEMORY_MB.max),
  'fail-on-loss': z.boolean(),
  hydrate: z.enum(['auto', 'expand', 'per-message']),
  quiet: z.boolean(),
  'auto-refresh': z.boolean(),
  redact: z.boolean(),
  'redact-key-file': pathValue.optional(),
  record: pathValue.optional(),
  'rebuild-state': z.boolean(),
  'download-media': z.boolean(),
  'max-media-bytes': positiveInt.max(2 ** 31 - 1),
  'media-concurrency': positiveInt.max(64),
  'media-timeout-ms': positiveInt.max(HOUR_MS),
  since: instant.optional(),
  until: instant.optional(),
  'honour-unsends': z.boolean(),
  'webhook-retention-days': z.number().positive().max(3650),
} satisfies Record<FlagName, z.ZodType>;

const settingsSchema = z.strictObject(settingsShape);

/**
 * One account of a fleet config: its name (for --accounts, logs and the summary lines), its numeric id (so the
 * lock is taken and --shard decides before any call) and where its token is: an environment variable or a file.
 */
const fleetAccountSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1–64 letters, digits, ".", "_" or "-"'),
    account: z
      .string({
        error: (issue) =>
          issue.input === undefined
            ? 'is required: the numeric account id, as a string'
            : 'must be the numeric account id, as a string ("17841…": JSON numbers lose digits beyond 2^53)',
      })
      .regex(
        /^\d+$/,
        'must be the numeric account id, as a string ("17841…": JSON numbers lose digits beyond 2^53)',
      ),
    token_env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')
      .optional(),
    token_file: pathValue.optional(),
  })
  .refine((a) => (a.token_env === undefined) !== (a.token_file === undefined), {
    message: 'name exactly one of token_env and token_file',
  });

export type FleetAccount = z.infer<typeof fleetAccountSchema>;

const fleetSchema = z
  .array(fleetAccountSchema)
  .min(1, 'must list at least one account')
  .superRefine((accounts, ctx) => {
    for (const key of ['name', 'account'] as const) {
      const seen = new Set<string>();
      for (const a of accounts) {
        if (seen.has(a[key])) ctx.addIssue({ code: 'custom', message: `${key} "${a[key]}" is listed twice` });
        seen.add(a[key]);
      }
    }
  });

/**
 * A config file may set any subset of the settings, plus an `accounts` list; unknown keys are errors (a typo must
 * not be ignored).
 */
const configFileSchema = z.strictObject({
  ...z.strictObject(settingsShape).partial().shape,
  accounts: fleetSchema.optional(),
});

/** The keys an object of a config file takes: the settings at its top, an account's in the `accounts` list. */
const configKeysAt = (path: readonly PropertyKey[]): readonly string[] | undefined =>
  path.length === 0
    ? Object.keys(configFileSchema.shape)
    : path[0] === 'accounts' && path.length === 2
      ? Object.keys(fleetAccountSchema.shape)
      : undefined;

export type ExportSettings = z.infer<typeof settingsSchema>;
/** Settings as a config file or the flags give them (`formats` a comma-separated string, not yet a list). */
export type GivenSettings = Partial<z.input<typeof settingsSchema>>;

export interface ConfigFile {
  /** As the file gives them: validated here, parsed once merged with the flags. */
  settings: GivenSettings;
  /** The fleet, when the file lists accounts. */
  accounts: FleetAccount[] | undefined;
}

function defaults(): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(EXPORT_FLAGS).flatMap(([k, v]) => ('default' in v ? [[k, v.default]] : [])),
  );
}

/** What to do when the config file cannot be read, by the error's code. */
const CONFIG_UNREADABLE_FIX: Record<string, string> = {
  ENOENT: 'no such file; check the path given to --config',
  EACCES: 'permission denied; make the file readable by the user this runs as',
  EISDIR: 'that is a folder; give the JSON file',
};

export async function loadConfigFile(path: string): Promise<ConfigFile> {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new UsageError(
      `cannot read config file ${path} (${code}): ${CONFIG_UNREADABLE_FIX[code] ?? 'check --config'}`,
    );
  }
  let json: unknown;
  try {
    // Editors on Windows (Notepad) save UTF-8 with a byte order mark; JSON parsers may ignore it, and this one does.
    json = JSON.parse(raw.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new UsageError(`config file ${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (
    typeof json === 'object' &&
    json !== null &&
    ('token' in json || 'access-token' in json || 'access_token' in json)
  ) {
    throw new UsageError(`config file ${path} must not hold the token; use IG_ACCESS_TOKEN or "token-file"`);
  }
  const parsed = configFileSchema.safeParse(json, { error: plainIssue });
  if (!parsed.success)
    throw new UsageError(`config file ${path} is invalid: ${issuesLine(parsed.error, '', configKeysAt)}`);
  const { accounts } = parsed.data;
  const { accounts: _, ...settings } = json as GivenSettings & { accounts?: unknown };
  if (accounts !== undefined) {
    const single = (['account', 'token-file', 'user-id'] as const).filter((k) => settings[k] !== undefined);
    if (single.length > 0)
      throw new UsageError(
        `config file ${path} lists "accounts", so it cannot also set ${single.map((k) => `"${k}"`).join(', ')}: ` +
          'each entry names its own account and token',
      );
  }
  return { settings, accounts };
}

/** Defaults, then the config file, then flags given on the command line; the result is validated. */
export function mergeSettings(
  config: GivenSettings,
  flags: Record<string, unknown>,
  nowMs = Date.now(),
): ExportSettings {
  const given = Object.fromEntries(
    Object.keys(EXPORT_FLAGS).flatMap((k) => (flags[k] === undefined ? [] : [[k, flags[k]]])),
  );
  const merged = { ...defaults(), ...config, ...given };
  const parsed = settingsSchema.safeParse(merged, { error: plainIssue });
  if (!parsed.success) throw new UsageError(`invalid option ${issuesLine(parsed.error, '--')}`);
  if (parsed.data['backoff-max-ms'] < parsed.data['backoff-base-ms']) {
    throw new UsageError('--backoff-max-ms must not be below --backoff-base-ms');
  }
  if (parsed.data.redact && parsed.data['download-media']) {
    throw new UsageError('--redact drops media: it cannot be combined with --download-media');
  }
  const { since, until } = parsed.data;
  if (
    since !== undefined &&
    until !== undefined &&
    (parseInstant(until) ?? 0) <= (parseInstant(since) ?? 0)
  ) {
    throw new UsageError(`--until ${until} must be later than --since ${since}`);
  }
  // No message can be created after now: such a window would export nothing, and say "nothing changed".
  if (since !== undefined && (parseInstant(since) ?? 0) > nowMs) {
    throw new UsageError(`--since ${since} is in the future: no message was created after it yet`);
  }
  return parsed.data;
}

/** The settings of one account of a fleet: the shared ones, with its account id and, when it has one, its token file. */
export function accountSettings(settings: ExportSettings, entry: FleetAccount): ExportSettings {
  return {
    ...settings,
    account: entry.account,
    ...(entry.token_file === undefined ? {} : { 'token-file': entry.token_file }),
    // Each account's exchanges in a folder of its own.
    ...(settings.record === undefined ? {} : { record: join(settings.record, entry.name) }),
  };
}

export function toExportOptions(
  s: ExportSettings,
  token: { token: string; source: 'env' | 'file'; label?: string | undefined },
): ExportOptions {
  return {
    client: {
      baseUrl: s['base-url'],
      apiVersion: s['api-version'],
      token: token.token,
      tokenSource: token.label,
      maxRps: s['max-rps'],
      timeoutMs: s['timeout-ms'],
      retries: s.retries,
      backoff: { baseMs: s['backoff-base-ms'], maxMs: s['backoff-max-ms'] },
      throttleWaitMs: s['throttle-wait-ms'],
      maxThrottles: 20,
      notFoundRetries: 2,
      slowDownAbovePercent: 80,
    },
    run: {
      tokenSource: token.source,
      account: s.account,
      userId: s['user-id'],
      outputRoot: s.output,
      formats: s.formats,
      stateDir: stateDirOf(s),
      mode: s.full ? 'full' : 'auto',
      rebuildState: s['rebuild-state'],
      checkpointMs: s['checkpoint-minutes'] * 60_000,
      checkpointConversations: s['checkpoint-conversations'],
      overlapMs: LISTING_OVERLAP_MS,
      pageSize: s['page-size'],
      conversationConcurrency: s['conversation-concurrency'],
      hydrateConcurrency: s['hydrate-concurrency'],
      windowSize: DETAIL_WINDOW,
      hydrate: s.hydrate,
      media: s['download-media']
        ? {
            concurrency: s['media-concurrency'],
            maxBytes: s['max-media-bytes'],
            timeoutMs: s['media-timeout-ms'],
            retries: s.retries,
            backoff: { baseMs: s['backoff-base-ms'], maxMs: s['backoff-max-ms'] },
          }
        : undefined,
      since: s.since === undefined ? undefined : parseInstant(s.since),
      until: s.until === undefined ? undefined : parseInstant(s.until),
      honourUnsends: s['honour-unsends'],
      webhookRetentionMs: s['webhook-retention-days'] * 86_400_000,
    },
    parquet: { ...DEFAULT_PARQUET_OPTIONS, compression: s.compression },
  };
}
