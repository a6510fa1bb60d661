import { createSandbox } from '../../sandbox/create-sandbox.js';
import { mergeSettings, toExportOptions } from '../export-settings.js';
import { createCliLogger, type LogLevel } from '../cli-logger.js';
import { runAndReport } from '../run-and-report.js';

export interface DemoArgs {
  output: string;
  seed: number;
  conversations: number;
  rps: number;
  full: boolean;
  json: boolean;
  'log-level': LogLevel;
}

/**
 * `ig-export demo`: starts the Graph API sandbox in-process and runs the real export against it over HTTP.
 * The sandbox is rate limited like Meta, at a higher rate (`--rps`) so the demo finishes in seconds.
 */
export async function demoCommand(args: DemoArgs): Promise<number> {
  const sandbox = await createSandbox({
    seed: args.seed,
    conversations: args.conversations,
    maxMessagesPerConversation: 400,
    rateLimit: { callsPerSecond: args.rps },
  });
  try {
    const logger = createCliLogger(args['log-level'], () => [sandbox.options.token]);
    const settings = mergeSettings(
      {},
      { output: args.output, 'base-url': sandbox.url, 'max-rps': args.rps, full: args.full },
    );
    const options = toExportOptions(settings, { token: sandbox.options.token, source: 'env' });
    if (!args.json) {
      process.stdout.write(
        `Sandbox with ${args.conversations} conversations at ${sandbox.url} (limited to ${args.rps} calls/s; Meta allows 2).\n`,
      );
    }
    const { code, summary } = await runAndReport(options, logger, args.json);
    if (!args.json && summary) {
      if (summary.mode === 'incremental') {
        process.stdout.write(
          'This run was incremental: the output already held this account, so only what changed since the last run was\n' +
            'fetched (the sandbox starts from the same data every time). Pass --full to export everything again.\n',
        );
      }
      process.stdout.write(
        `Sandbox served ${sandbox.stats.requests.length} requests, throttled ${sandbox.stats.throttled}.\n` +
          `Try: duckdb -c "SELECT hydration_status, count(*) FROM '${summary.snapshotDir}/messages.parquet' GROUP BY 1"\n`,
      );
    }
    return code;
  } finally {
    await sandbox.close();
  }
}
