import type { Options } from 'yargs';
import { LARGEST_PAGE } from '../../graph/meta-limits.js';
import { DUCKDB_MEMORY_OPTION } from './shared-options.js';

/**
 * Export settings, defined once: the flags (`ig-export export --help`), the JSON config file (`--config`) and
 * their validation all come from this table. Keys are the long flag names.
 */
export const EXPORT_FLAGS = {
  account: {
    type: 'string',
    default: 'me',
    describe: 'Instagram professional account: "me" or its id (resolved to user_id with one call)',
  },
  'user-id': {
    type: 'string',
    describe:
      'Export only the conversation with this person (their Instagram-scoped id), e.g. for a compliance request',
  },
  'base-url': {
    type: 'string',
    default: 'https://graph.instagram.com',
    describe: 'Graph API host (point it at a sandbox for tests)',
  },
  'api-version': { type: 'string', default: 'v23.0', describe: 'Graph API version' },
  'token-file': {
    type: 'string',
    describe: 'File holding the access token (otherwise IG_ACCESS_TOKEN); never pass the token itself',
  },
  output: {
    type: 'string',
    default: 'output',
    describe: 'Output root; snapshots go to <output>/account=<id>/snapshot=<id>/',
  },
  'max-rps': {
    type: 'number',
    default: 2,
    describe: 'Calls per second for the account, shared by all stages (Meta allows 2)',
  },
  'page-size': {
    type: 'number',
    default: LARGEST_PAGE,
    describe: 'limit= asked for on list calls (the largest page the API serves)',
  },
  'conversation-concurrency': { type: 'number', default: 2, describe: 'Conversations expanded at once' },
  'account-concurrency': {
    type: 'number',
    default: 4,
    describe:
      'With an "accounts" list in --config: accounts exported at once, up to 1000 (each keeps its own --max-rps budget; 3 open files each)',
  },
  'hydrate-concurrency': {
    type: 'number',
    default: 4,
    describe: 'Message detail requests in flight at once (all conversations)',
  },
  retries: {
    type: 'number',
    default: 5,
    describe: 'Retries of a transient failure before an item is recorded as failed',
  },
  'timeout-ms': {
    type: 'number',
    default: 30_000,
    describe: 'Per-request timeout; a timed-out request is retried',
  },
  'backoff-base-ms': {
    type: 'number',
    default: 1_000,
    describe: 'First retry delay (exponential with jitter)',
  },
  'backoff-max-ms': { type: 'number', default: 60_000, describe: 'Largest retry delay' },
  'throttle-wait-ms': {
    type: 'number',
    default: 1_000,
    describe:
      'Pause after a throttle that names no wait (the pace is also lowered); doubles while throttles repeat with no success between',
  },
  formats: {
    type: 'string',
    default: 'ndjson,parquet',
    describe:
      'Formats of each table, comma-separated: parquet (always: compact and import-dyi read it) and ndjson; parquet alone halves what a run writes',
  },
  compression: {
    type: 'string',
    default: 'zstd',
    choices: ['zstd', 'snappy', 'gzip', 'none'],
    describe: 'Parquet compression',
  },
  full: {
    type: 'boolean',
    default: false,
    describe: 'Full export even when state exists (default: incremental once the account has state)',
  },
  'state-dir': { type: 'string', describe: 'Run state and lock (default: <output>/_state)' },
  'checkpoint-minutes': {
    type: 'number',
    default: 10,
    describe: 'Publish a snapshot and commit state at least this often during a long run',
  },
  compact: {
    type: 'boolean',
    default: false,
    describe: 'Rebuild the current view (ig-export compact) after the export',
  },
  ...DUCKDB_MEMORY_OPTION,
  'checkpoint-conversations': {
    type: 'number',
    default: 0,
    describe: 'Also checkpoint after this many conversations (0 = only by time)',
  },
  hydrate: {
    type: 'string',
    default: 'auto',
    choices: ['auto', 'expand', 'per-message'],
    describe:
      'How the 20 most recent messages are read: field expansion (one call per conversation), one call per message, or auto (expansion, falling back once if refused)',
  },
  'fail-on-loss': {
    type: 'boolean',
    default: false,
    describe:
      'Exit 6 when message bodies were lost to the 20-message window (the snapshot is still published)',
  },
  quiet: {
    type: 'boolean',
    default: false,
    describe:
      'No live progress display on a terminal (it is off anyway when stderr is not one, as under cron)',
  },
  'auto-refresh': {
    type: 'boolean',
    default: false,
    describe:
      'Before the run, renew the token in --token-file when it is at least 24 h old and expires within 10 days (or its expiry is unknown)',
  },
  redact: {
    type: 'boolean',
    default: false,
    describe:
      'For sharing: replace user ids and usernames with a keyed hash (key from IG_EXPORT_REDACT_KEY or --redact-key-file), drop text, raw objects and links',
  },
  'redact-key-file': {
    type: 'string',
    describe: 'File holding the --redact key (otherwise IG_EXPORT_REDACT_KEY)',
  },
  'rebuild-state': {
    type: 'boolean',
    default: false,
    describe:
      "Rebuild the account's run state from its published snapshots first (when the state file is damaged)",
  },
  record: {
    type: 'string',
    describe:
      'Write every API request and response of the run into this folder (exchanges.ndjson: no token; text, names and links hashed with --redact), for a bug report or ig-export sandbox --replay',
  },
  'download-media': {
    type: 'boolean',
    default: false,
    describe:
      'Save every attachment, share and story file into the snapshot (media/<sha256>) before the CDN links expire; a media table records each download',
  },
  'max-media-bytes': {
    type: 'number',
    default: 200_000_000,
    describe: 'Media files larger than this are not kept (status too_large)',
  },
  'media-concurrency': { type: 'number', default: 4, describe: 'Media downloads at once (not Graph calls)' },
  'media-timeout-ms': { type: 'number', default: 120_000, describe: 'Time limit of one media download' },
  since: {
    type: 'string',
    describe:
      'Keep messages created at or after this instant: a date (2026-01-31, midnight UTC) or an ISO 8601 date-time with Z or an offset. Full or --user-id exports only',
  },
  until: {
    type: 'string',
    describe: 'Keep messages created before this instant (same forms as --since; exclusive)',
  },
  'honour-unsends': {
    type: 'boolean',
    default: false,
    describe:
      'Rows of messages a captured webhook says were unsent keep no content (default: keep it, with deleted_at set)',
  },
  'webhook-retention-days': {
    type: 'number',
    default: 30,
    describe:
      'Captured webhook events are pruned from the spool this long after a published snapshot took them in',
  },
} as const;

type ExportFlag = keyof typeof EXPORT_FLAGS;

const TUNING = 'Tuning (ig-export export --help --show-hidden):';

/** Where each export flag stands in `--help`; the tuning knobs are hidden from the first screen. */
const GROUPS: Record<ExportFlag, string> = {
  account: 'Account and token:',
  'user-id': 'What to export:',
  'base-url': 'Account and token:',
  'api-version': 'Account and token:',
  'token-file': 'Account and token:',
  'auto-refresh': 'Account and token:',
  'account-concurrency': 'Account and token:',
  full: 'What to export:',
  since: 'What to export:',
  until: 'What to export:',
  hydrate: 'What to export:',
  'download-media': 'What to export:',
  redact: 'What to export:',
  'redact-key-file': 'What to export:',
  'honour-unsends': 'What to export:',
  output: 'Output:',
  'state-dir': 'Output:',
  compression: 'Output:',
  formats: 'Output:',
  compact: 'Output:',
  'fail-on-loss': 'Output:',
  quiet: 'Output:',
  record: 'Output:',
  'rebuild-state': 'Output:',
  'max-rps': 'Account and token:',
  'page-size': TUNING,
  'conversation-concurrency': TUNING,
  'hydrate-concurrency': TUNING,
  retries: TUNING,
  'timeout-ms': TUNING,
  'backoff-base-ms': TUNING,
  'backoff-max-ms': TUNING,
  'throttle-wait-ms': TUNING,
  'checkpoint-minutes': TUNING,
  'checkpoint-conversations': TUNING,
  'max-media-bytes': TUNING,
  'media-concurrency': TUNING,
  'media-timeout-ms': TUNING,
  'webhook-retention-days': TUNING,
  'duckdb-memory': TUNING,
};

/** The flags doctor acts on; it accepts the rest (so an export's command line can be checked as is) and hides them. */
const DOCTOR_USES: ReadonlySet<ExportFlag> = new Set([
  'account',
  'base-url',
  'api-version',
  'token-file',
  'output',
  'state-dir',
  'max-rps',
  'timeout-ms',
]);

/**
 * The export flags as yargs options. No yargs defaults: a flag left out must not override the config file (defaults
 * are applied in mergeSettings); help shows them.
 */
export function exportFlagOptions(command: 'export' | 'doctor'): Record<string, Options> {
  return Object.fromEntries(
    Object.entries(EXPORT_FLAGS).map(([name, f]) => {
      const flag = name as ExportFlag;
      const shown = command === 'export' ? GROUPS[flag] !== TUNING : DOCTOR_USES.has(flag);
      return [
        name,
        {
          type: f.type,
          describe: f.describe,
          ...('default' in f ? { defaultDescription: JSON.stringify(f.default) } : {}),
          ...('choices' in f ? { choices: [...f.choices] } : {}),
          ...(command === 'export' ? { group: GROUPS[flag] } : {}),
          ...(shown ? {} : { hidden: true }),
        } satisfies Options,
      ];
    }),
  );
}
