import { randomUUID } from 'node:crypto';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { systemClock } from '../../clock.js';
import { ensureDirSync } from '../../output-path.js';
import { probeApi, type ProbeReport } from '../../pipeline/account-tools/api-probe.js';
import { knownSecrets, readAccessToken } from '../access-token.js';
import { createCliLogger, type LogLevel } from '../cli-logger.js';
import type { CommandResult } from '../exit-codes.js';
import { mergeSettings, toExportOptions } from '../export-settings.js';
import { systemRandom } from '../system-random.js';

export interface ProbeArgs {
  account?: string | undefined;
  'token-file'?: string | undefined;
  'base-url'?: string | undefined;
  'api-version'?: string | undefined;
  output?: string | undefined;
  'state-dir'?: string | undefined;
  'max-rps'?: number | undefined;
  json: boolean;
  'log-level': LogLevel;
}

/** Columns padded to their widest cell, wrapped cells never (a terminal wraps them). */
function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function text(report: ProbeReport, file: string): string {
  const rows = [
    ['check', 'expected (our guess)', 'seen', 'what ig-export does'],
    ...report.checks.map((c) => [c.check, c.expected, `${c.asGuessed ? '' : '≠ '}${c.seen}`, c.action]),
  ];
  const differ = report.checks.filter((c) => !c.asGuessed).length;
  return (
    `${table(rows)}\n\n` +
    `${report.calls} API calls. ${differ === 0 ? 'Every check is as ig-export guessed.' : `${differ} check(s) differ from the guess (marked ≠); ig-export exports exactly either way.`}\n` +
    `Report: ${file} (ids as short hashes, no message text, no token; attach it to an issue).\n`
  );
}

/**
 * `ig-export probe`: checks, on the account the token reads, every behaviour of the Graph API ig-export guesses, in
 * at most 15 calls, and prints what it saw beside the guess. Writes the same report to `<state>/probe-<time>.json`.
 */
export async function probeCommand(args: ProbeArgs): Promise<CommandResult> {
  const settings = mergeSettings(
    {},
    {
      account: args.account,
      'token-file': args['token-file'],
      'base-url': args['base-url'],
      'api-version': args['api-version'],
      output: args.output,
      'state-dir': args['state-dir'],
      'max-rps': args['max-rps'],
    },
  );
  const token = await readAccessToken(settings['token-file'], process.env);
  const options = toExportOptions(settings, token);
  const report = await probeApi(
    { client: options.client, account: options.run.account, windowSize: options.run.windowSize },
    {
      clock: systemClock,
      random: systemRandom,
      logger: createCliLogger(args['log-level'], () => knownSecrets()),
    },
  );
  const stamp = new Date(systemClock.now()).toISOString().replace(/[:.]/g, '').replace(/-/g, '');
  ensureDirSync(options.run.stateDir);
  const file = join(options.run.stateDir, `probe-${stamp}.json`);
  // A new name, then a rename: never written through a link planted at the final name.
  const temp = `${file}.tmp-${randomUUID()}`;
  await writeFile(temp, `${JSON.stringify(report, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
  await rename(temp, file);
  if (!args.json) process.stdout.write(text(report, file));
  return { code: 0, summary: { status: 'complete', ...report, reportFile: file } };
}
