import { createSandbox } from '../../sandbox/create-sandbox.js';
import { mergeSettings, toExportOptions } from '../export-settings.js';
import { createCliLogger, type LogLevel } from '../cli-logger.js';
import type { CommandResult } from '../exit-codes.js';
import { inRange } from '../option-ranges.js';
import { runAndReport } from '../run-and-report.js';
import { withStopSignals } from '../stop-signals.js';

export interface DemoArgs {
  output: string;
  seed: number;
  conversations: number;
  'rate-limit': number;
  full: boolean;
  json: boolean;
  'log-level': LogLevel;
}

/**
 * `ig-export demo`: starts the Graph API sandbox in-process and runs the real export against it over HTTP.
 * The sandbox is rate limited like Meta, at a higher rate (`--rate-limit`) so the demo finishes in seconds.
 */
export async function demoCommand(args: DemoArgs): Promise<CommandResult> {
  inRange('seed', args.seed, { min: 0, max: 2 ** 31 - 1, integer: true });
  inRange('conversations', args.conversations, { min: 1, max: 100_000, integer: true });
  inRange('rate-limit', args['rate-limit'], { min: 0.1, max: 10_000 });
  const sandbox = await createSandbox({
    seed: args.seed,
    conversations: args.conversations,
    maxMessagesPerConversation: 400,
    rateLimit: { callsPerSecond: args['rate-limit'] },
  });
  try {
    const logger = createCliLogger(args['log-level'], () => [sandbox.options.token]);
    const settings = mergeSettings(
      {},
      // 90 % of the sandbox's limit: evenly spaced calls still arrive with jitter, and one throttle blocks the
      // account for a minute.
      { output: args.output, 'base-url': sandbox.url, 'max-rps': args['rate-limit'] * 0.9, full: args.full },
    );
    const options = toExportOptions(settings, { token: sandbox.options.token, source: 'env' });
    if (!args.json) {
      process.stdout.write(
        `Sandbox with ${args.conversations} conversations at ${sandbox.url} (limited to ${args['rate-limit']} calls/s, ` +
          `exported at 90 % of that; Meta allows 2).\n`,
      );
    }
    const { code, summary, run, text } = await withStopSignals(logger, args.json, (signal) =>
      runAndReport(options, logger, { json: args.json, signal, failOnLoss: false }),
    );
    process.stdout.write(text);
    if (!args.json) {
      if (run.mode === 'incremental') {
        process.stdout.write(
          'This run was incremental: the output already held this account, so only what changed since the last run was\n' +
            'fetched (the sandbox starts from the same data every time). Pass --full to export everything again.\n',
        );
      }
      process.stdout.write(
        `Sandbox served ${sandbox.stats.requests.length} requests, throttled ${sandbox.stats.throttled}.\n` +
          `Try: duckdb -c "SELECT hydration_status, count(*) FROM '${options.run.outputRoot}/account=*/snapshot=*/messages.parquet' GROUP BY 1"\n`,
      );
    }
    return { code, summary };
  } finally {
    await sandbox.close();
  }
}
