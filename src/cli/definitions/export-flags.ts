import type { Options } from 'yargs';
import { EXPORT_FLAGS } from '../export-settings.js';

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
