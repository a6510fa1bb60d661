#!/usr/bin/env node
import yargs, { type Options } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { GraphAuthError } from '../graph/errors.js';
import { redactText } from '../graph/redact.js';
import { RunLockedError } from '../state/run-lock.js';
import { TOKEN_ENV } from './access-token.js';
import { EXPORT_FLAGS } from './export-settings.js';
import { ExitCode, UsageError } from './exit-codes.js';

/** The bin entry: yargs, lazy command modules, and the one error boundary that maps errors to exit codes. */

const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;

function exportFlagOptions(): Record<string, Options> {
  // No yargs defaults: a flag left out must not override the config file. Defaults are applied in mergeSettings.
  return Object.fromEntries(
    Object.entries(EXPORT_FLAGS).map(([name, f]) => [
      name,
      {
        type: f.type,
        describe: f.describe,
        ...('default' in f ? { defaultDescription: JSON.stringify(f.default) } : {}),
        ...('choices' in f ? { choices: [...f.choices] } : {}),
      } satisfies Options,
    ]),
  );
}

export async function main(argv: string[]): Promise<number> {
  let code: number = ExitCode.Ok;
  const secretFlags = argv.filter((a) => /^--?(token|access[-_]token)(=|$)/i.test(a));
  if (secretFlags.length > 0) {
    process.stderr.write(
      'ig-export: the access token is never accepted on the command line (it would leak through ps and shell history).\n' +
        '  Set IG_ACCESS_TOKEN, or put the token in a file and pass --token-file <path>.\n',
    );
    return ExitCode.Usage;
  }
  const cli = yargs(argv)
    .scriptName('ig-export')
    .usage('$0 <command> [options]\n\nExport Instagram Direct conversations to NDJSON and Parquet snapshots.')
    .option('log-level', {
      choices: LOG_LEVELS,
      default: 'info' as const,
      describe: 'Log level (JSON lines on stderr)',
    })
    .command(
      'export',
      "Export the account's conversations into a new snapshot (the main job)",
      (y) =>
        y
          .options(exportFlagOptions())
          .option('config', {
            type: 'string',
            describe: 'JSON config file (keys = long flag names); flags override it',
          })
          .option('json', {
            type: 'boolean',
            default: false,
            describe: 'Print exactly one JSON summary line on stdout',
          })
          .example('IG_ACCESS_TOKEN=… $0 export', "export everything of the token's account into ./output")
          .example(
            '$0 export --token-file ~/.ig-token --config config/export.example.json --json',
            'cron-style run',
          )
          .example(
            '$0 export --token-file t --user-id 6521113831237472',
            "one person's conversation (compliance)",
          ),
      async (args) => {
        const { exportCommand } = await import('./commands/export.js');
        code = await exportCommand(args as never);
      },
    )
    .command(
      'demo',
      'Start the built-in Graph API sandbox and export it into ./output',
      (y) =>
        y
          .option('output', { type: 'string', default: 'output', describe: 'Output root' })
          .option('seed', { type: 'number', default: 1, describe: 'Sandbox data seed' })
          .option('conversations', { type: 'number', default: 40, describe: 'Conversations in the sandbox' })
          .option('rps', {
            type: 'number',
            default: 50,
            describe: 'Sandbox rate limit and --max-rps (Meta allows 2)',
          })
          .option('full', {
            type: 'boolean',
            default: false,
            describe: 'Full export even if the output already holds the demo account',
          })
          .option('json', {
            type: 'boolean',
            default: false,
            describe: 'Print exactly one JSON summary line on stdout',
          })
          .example('$0 demo', 'export 40 synthetic conversations into ./output'),
      async (args) => {
        const { demoCommand } = await import('./commands/demo.js');
        code = await demoCommand(args);
      },
    )
    .command(
      'sandbox',
      'Serve the Graph API sandbox (paging, errors, throttling, the 20-message window) on a port',
      (y) =>
        y
          .option('port', { type: 'number', default: 8787, describe: 'Port (0 = any free port)' })
          .option('host', { type: 'string', default: '127.0.0.1', describe: 'Interface to listen on' })
          .option('seed', { type: 'number', default: 1, describe: 'Data seed (same seed, same data)' })
          .option('conversations', { type: 'number', default: 50, describe: 'Number of conversations' })
          .option('rate-limit', {
            type: 'number',
            default: 2,
            describe: 'Calls per second per account before throttling (0 = off)',
          })
          .option('max-limit', {
            type: 'number',
            default: 100,
            describe: 'Largest page size served (limit= is clamped)',
          })
          .option('fault-rate', {
            type: 'number',
            default: 0,
            describe: 'Share of requests answered with an injected fault, spread over all kinds',
          })
          .option('accept-token', {
            type: 'string',
            default: 'sandbox-token',
            describe: 'The access token the sandbox accepts (a sandbox value, not a secret)',
          })
          .example('$0 sandbox --port 8787 --fault-rate 0.1', 'a flaky sandbox for trying the client'),
      async (args) => {
        const { sandboxCommand } = await import('./commands/sandbox.js');
        code = await sandboxCommand(args);
      },
    )
    .command(
      'compact',
      'Build the current view (one row per message and per conversation) from all snapshots',
      (y) =>
        y
          .option('output', {
            type: 'string',
            default: 'output',
            describe: 'Output root holding account=<id>/snapshot=<id>/',
          })
          .option('account', {
            type: 'string',
            describe: 'Only this account id (default: every account under --output)',
          })
          .option('compression', {
            choices: ['zstd', 'snappy', 'gzip', 'none'] as const,
            default: 'zstd' as const,
            describe: 'Parquet compression',
          })
          .option('json', {
            type: 'boolean',
            default: false,
            describe: 'Print exactly one JSON summary line on stdout',
          })
          .example(
            '$0 compact',
            'writes output/current/account=<id>/messages.parquet and conversations.parquet',
          ),
      async (args) => {
        const { compactCommand } = await import('./commands/compact.js');
        code = await compactCommand(args);
      },
    )
    .command(
      'schema',
      'Print the output columns (Markdown, or JSON with --json)',
      (y) =>
        y
          .option('json', { type: 'boolean', default: false, describe: 'JSON instead of Markdown' })
          .example('$0 schema', 'the column tables of messages and conversations'),
      async (args) => {
        const { schemaCommand } = await import('./commands/schema.js');
        code = schemaCommand(args);
      },
    )
    .example('$0 demo', 'try it: export the built-in sandbox into ./output')
    .example('IG_ACCESS_TOKEN=… $0 export --json', 'export a real account; one JSON summary line on stdout')
    .epilogue(
      'Exit codes: 0 complete, 1 error, 2 usage/config, 3 token or permission refused, 4 partial snapshot, 5 another run holds the lock.',
    )
    .demandCommand(1, 'Name a command: export, demo, compact, sandbox or schema.')
    .strict()
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(120, process.stdout.columns || 120))
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? new UsageError(message);
    });
  try {
    await cli.parseAsync();
    return code;
  } catch (e) {
    return reportError(e);
  }
}

function reportError(e: unknown): number {
  if (e instanceof UsageError) {
    process.stderr.write(`ig-export: ${e.message}\nRun "ig-export <command> --help" for usage.\n`);
    return ExitCode.Usage;
  }
  if (e instanceof RunLockedError) {
    process.stderr.write(`ig-export: ${e.message}\n`);
    return ExitCode.Locked;
  }
  if (e instanceof GraphAuthError) {
    process.stderr.write(`ig-export: ${e.message}\n`);
    return ExitCode.Auth;
  }
  // Last line of defence: even an unexpected error's text must not carry the token.
  const text = e instanceof Error ? (e.stack ?? e.message) : String(e);
  process.stderr.write(`ig-export: ${redactText(text, [process.env[TOKEN_ENV] ?? ''])}\n`);
  return ExitCode.Error;
}

// `ig-export schema | head` closes stdout early: that is the reader's choice, not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

main(hideBin(process.argv)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.exitCode = reportError(e);
  },
);
