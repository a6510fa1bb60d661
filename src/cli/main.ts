#!/usr/bin/env node
import leven from 'leven';
import yargs, { type Options } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { redactText, secretLookingArgs } from '../graph/redact.js';
import { knownSecrets } from './access-token.js';
import { EXPORT_FLAGS } from './export-settings.js';
import { ExitCode, UsageError, type CommandResult } from './exit-codes.js';
import { describeFailure } from './failure-report.js';
import { writeJsonLine } from './json-output.js';
import { stopWhenLauncherGone } from './stop-signals.js';

/** The bin entry: yargs, lazy command modules, and the one error boundary that maps errors to exit codes. */

const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;

const JSON_OPTION = {
  type: 'boolean',
  default: false,
  describe: 'Print exactly one JSON summary line on stdout',
} as const satisfies Options;

/** Choosing among the accounts a config file lists (export and doctor). */
const FLEET_OPTIONS = {
  accounts: {
    type: 'string',
    describe: 'With an "accounts" list in --config: only these accounts (names, comma-separated)',
  },
  shard: {
    type: 'string',
    describe:
      'With an "accounts" list in --config: only shard i of n (i/n, 0-based), chosen by account id, so hosts split a fleet without coordination',
  },
} as const satisfies Record<string, Options>;

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

interface OutputMode {
  json: boolean;
  debug: boolean;
  /** Arguments that look like a pasted token (never echoed in an error about them). */
  pasted: string[];
  /** The command given, when argv names one (usage errors point at its --help). */
  command: string | undefined;
}

const COMMANDS = [
  'export',
  'demo',
  'sandbox',
  'compact',
  'prune',
  'verify',
  'doctor',
  'probe',
  'token',
  'listen',
  'webhook',
  'schema',
];

/** Read from argv before parsing, so that even a parse failure answers in the form asked for. */
function outputMode(argv: readonly string[]): OutputMode {
  const json = argv.some((a) => a === '--json' || a === '--json=true');
  const level = argv.findIndex((a) => a === '--log-level');
  const debug = argv.includes('--log-level=debug') || (level >= 0 && argv[level + 1] === 'debug');
  const command = argv.find((a) => !a.startsWith('-'));
  return {
    json,
    debug,
    pasted: secretLookingArgs(argv),
    command: command !== undefined && COMMANDS.includes(command) ? command : undefined,
  };
}

/** yargs says "Unknown argument: max-rsp"; say which flag was meant. */
function unknownFlagMessage(message: string, known: readonly string[]): string {
  if (message.startsWith('Did you mean')) return `unknown command; ${message.replace('Did', 'did')}`;
  // The one command with a required positional argument.
  if (message.startsWith('Not enough non-option arguments'))
    return 'name what to verify: ig-export verify <snapshot folder, account folder or output root>…';
  const match = /^Unknown arguments?: (.*)$/.exec(message);
  if (!match?.[1]) return message;
  return match[1]
    .split(', ')
    .map((name) => {
      const flag = name.length === 1 ? `-${name}` : `--${name}`;
      const best = known
        .map((k) => ({ k, d: leven(name, k) }))
        .sort((a, b) => a.d - b.d)
        .find((x) => x.d <= Math.max(2, Math.floor(name.length / 3)));
      return best ? `unknown option ${flag} (did you mean --${best.k}?)` : `unknown option ${flag}`;
    })
    .join('; ');
}

/** yargs has the parsed command's options at run time but does not type the accessor. */
function optionNames(cli: unknown): string[] {
  return Object.keys((cli as { getOptions(): { key: Record<string, unknown> } }).getOptions().key);
}

export async function main(argv: string[]): Promise<number> {
  stopWhenLauncherGone();
  const mode = outputMode(argv);
  let result: CommandResult = { code: ExitCode.Ok };
  const secretFlags = argv.filter((a) => /^--?(token|access[-_]token)(=|$)/i.test(a));
  if (secretFlags.length > 0) {
    return reportFailure(
      new UsageError(
        'the access token is never accepted on the command line (it would leak through ps and shell history); ' +
          'set IG_ACCESS_TOKEN, or put the token in a file and pass --token-file <path>',
      ),
      mode,
    );
  }
  const cli = yargs(argv)
    .parserConfiguration({ 'camel-case-expansion': false, 'duplicate-arguments-array': false })
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
            describe: 'JSON config file (keys = long flag names); flags override it; it may list accounts',
          })
          .options(FLEET_OPTIONS)
          .option('json', JSON_OPTION)
          .example('IG_ACCESS_TOKEN=… $0 export', "export everything of the token's account into ./output")
          .example(
            '$0 export --token-file ~/.ig-token --config config/export.example.json --json',
            'cron-style run',
          )
          .example(
            '$0 export --token-file t --user-id 6521113831237472',
            "one person's conversation (compliance)",
          )
          .example(
            '$0 export --config fleet.json --shard 0/2 --json',
            'half of the accounts a fleet config lists; one JSON line per account, then the fleet line',
          ),
      async (args) => {
        const { exportCommand } = await import('./commands/export.js');
        result = await exportCommand(args as never);
      },
    )
    .command(
      'demo',
      'Start the built-in Graph API sandbox and export it into ./output/demo',
      (y) =>
        y
          .option('output', {
            type: 'string',
            default: 'output/demo',
            describe: 'Output root (its own, so the demo never mixes with real exports)',
          })
          .option('seed', { type: 'number', default: 1, describe: 'Sandbox data seed' })
          .option('conversations', { type: 'number', default: 40, describe: 'Conversations in the sandbox' })
          .option('max-rps', {
            alias: 'rps',
            type: 'number',
            default: 50,
            describe:
              'Sandbox limit in calls per second; the export paces itself at 90 % of it (Meta allows 2)',
          })
          .option('full', {
            type: 'boolean',
            default: false,
            describe: 'Full export even if the output already holds the demo account',
          })
          .option('json', JSON_OPTION)
          .example('$0 demo', 'export 40 synthetic conversations into ./output/demo'),
      async (args) => {
        const { demoCommand } = await import('./commands/demo.js');
        result = await demoCommand(args);
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
          .option('accounts', {
            type: 'number',
            default: 1,
            describe:
              'Serve this many accounts on one host, routed by token (sandbox-token-1, -2, …), each with its own data and limit',
          })
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
          .option('paging-links', {
            choices: ['edge', 'node', 'until', 'cursors'] as const,
            default: 'edge' as const,
            describe:
              "Form of message lists' paging.next (Meta does not document it): the edge, the conversation node, until/__paging_token, or cursors only",
          })
          .option('messages-edge', {
            choices: ['serve', 'refuse'] as const,
            default: 'serve' as const,
            describe: 'Whether /<conversation>/messages is served or refused with code 100',
          })
          .option('expansion', {
            choices: ['serve', 'ignore', 'refuse'] as const,
            default: 'serve' as const,
            describe: 'Message detail fields inside a messages{…} expansion: served, ignored, or refused',
          })
          .option('accept-token', {
            type: 'string',
            default: 'sandbox-token',
            describe: 'The access token the sandbox accepts (a sandbox value, not a secret)',
          })
          .option('webhook-url', {
            type: 'string',
            describe: 'Deliver a signed messages webhook here for every message added (try ig-export listen)',
          })
          .option('replay', {
            type: 'string',
            describe:
              'Serve a recording made by export --record (its folder) instead of synthetic data, for a bug report or a test',
          })
          .option('webhook-secret', {
            type: 'string',
            default: 'sandbox-app-secret',
            describe: 'The app secret the sandbox signs webhooks with (a sandbox value, not a secret)',
          })
          .example('$0 sandbox --port 8787 --fault-rate 0.1', 'a flaky sandbox for trying the client')
          .example('$0 sandbox --accounts 3', 'three accounts, for trying a fleet config')
          .example('$0 sandbox --replay ./recording', 'serve what a real account answered (export --record)'),
      async (args) => {
        const { sandboxCommand } = await import('./commands/sandbox.js');
        result = await sandboxCommand(args);
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
          .option('state-dir', { type: 'string', describe: 'Run state and locks (default: <output>/_state)' })
          .option('compression', {
            choices: ['zstd', 'snappy', 'gzip', 'none'] as const,
            default: 'zstd' as const,
            describe: 'Parquet compression',
          })
          .option('rebuild', {
            type: 'boolean',
            default: false,
            describe:
              'Build the view from the snapshots alone, ignoring the previous view (when verify says it was altered)',
          })
          .option('json', JSON_OPTION)
          .example(
            '$0 compact',
            'writes output/current/account=<id>/messages.parquet and conversations.parquet',
          ),
      async (args) => {
        const { compactCommand } = await import('./commands/compact.js');
        result = await compactCommand(args);
      },
    )
    .command(
      'prune',
      'Remove old snapshots whose rows the current view already holds',
      (y) =>
        y
          .option('keep', {
            type: 'string',
            demandOption: true,
            describe: 'Snapshots to keep: a number (newest N) or an age (90m, 12h, 14d, 2w)',
          })
          .option('output', { type: 'string', default: 'output', describe: 'Output root' })
          .option('account', { type: 'string', describe: 'Only this account id (default: every account)' })
          .option('state-dir', { type: 'string', describe: 'Run state and locks (default: <output>/_state)' })
          .option('compact', {
            type: 'boolean',
            default: false,
            describe: 'Rebuild the current view first, so every old snapshot can go',
          })
          .option('dry-run', { type: 'boolean', default: false, describe: 'Only say what would be removed' })
          .option('json', JSON_OPTION)
          .example(
            '$0 prune --keep 14d --compact',
            'fold everything into the current view, keep two weeks of snapshots',
          )
          .example('$0 prune --keep 48 --dry-run', 'what keeping the 48 newest snapshots would remove'),
      async (args) => {
        const { pruneCommand } = await import('./commands/prune.js');
        result = await pruneCommand(args);
      },
    )
    .command(
      'verify <snapshots..>',
      "Check snapshots against their manifests: every file's hash and rows, the manifest's own digest",
      (y) =>
        y
          .positional('snapshots', {
            type: 'string',
            array: true,
            demandOption: true,
            describe:
              'Snapshot folders (snapshot=<id>), or account folders or output roots to check all their snapshots',
          })
          .option('json', JSON_OPTION)
          .example('$0 verify output/account=1784…/snapshot=20261129T101500.000Z', 'check one snapshot')
          .example('$0 verify output/account=1784… --json', 'check every snapshot of an account'),
      async (args) => {
        const { verifyCommand } = await import('./commands/verify.js');
        result = await verifyCommand({ snapshots: args.snapshots, json: args.json });
      },
    )
    .command(
      'doctor',
      'Check what an export needs (token, account, permission, folders, lock, token expiry) and say what to fix',
      (y) =>
        y
          .options(exportFlagOptions())
          .option('config', { type: 'string', describe: 'JSON config file, as for export' })
          .options(FLEET_OPTIONS)
          .option('json', JSON_OPTION)
          .example('$0 doctor --token-file ~/.ig-token', 'before setting up cron'),
      async (args) => {
        const { doctorCommand } = await import('./commands/doctor.js');
        result = await doctorCommand(args as never);
      },
    )
    .command(
      'token <action>',
      'Token lifecycle: "token refresh" renews a long-lived token (valid 60 days) in its file',
      (y) =>
        y
          .positional('action', { type: 'string', choices: ['refresh'], demandOption: true })
          .option('token-file', {
            type: 'string',
            describe: 'The file holding the token; the new one replaces it',
          })
          .option('base-url', {
            type: 'string',
            describe: 'Graph API host (default https://graph.instagram.com)',
          })
          .option('output', {
            type: 'string',
            describe: 'Output root (default output), for the default state dir',
          })
          .option('state-dir', {
            type: 'string',
            describe: 'Where the token expiry is recorded (default <output>/_state)',
          })
          .option('json', JSON_OPTION)
          .example('$0 token refresh --token-file ~/.ig-token', 'renew the token, record its expiry'),
      async (args) => {
        const { tokenCommand } = await import('./commands/token.js');
        result = await tokenCommand({
          action: args.action,
          'token-file': args['token-file'],
          'base-url': args['base-url'],
          output: args.output,
          'state-dir': args['state-dir'],
          json: args.json,
          'log-level': args['log-level'],
        });
      },
    )
    .command(
      'listen',
      "Receive Meta's webhooks (messages, edits, unsends, reactions) and spool them for the next export",
      (y) =>
        y
          .option('port', { type: 'number', default: 8788, describe: 'Port (0 = any free port)' })
          .option('host', {
            type: 'string',
            default: '127.0.0.1',
            describe: 'Interface to listen on (keep it local: the HTTPS reverse proxy forwards to it)',
          })
          .option('path', {
            type: 'string',
            default: '/webhook',
            describe: 'The callback path given to Meta',
          })
          .option('output', {
            type: 'string',
            default: 'output',
            describe: 'Output root, for the default state dir (as for export)',
          })
          .option('state-dir', {
            type: 'string',
            describe: 'Where the spool goes: <state-dir>/webhooks/ (default <output>/_state)',
          })
          .option('app-secret-file', {
            type: 'string',
            describe: 'File holding the Meta app secret (otherwise IG_APP_SECRET)',
          })
          .option('verify-token-file', {
            type: 'string',
            describe: 'File holding the subscription verify token (otherwise IG_WEBHOOK_VERIFY_TOKEN)',
          })
          .option('max-body-bytes', {
            type: 'number',
            default: 1_048_576,
            describe: 'Larger deliveries are refused with 413',
          })
          .option('json', {
            type: 'boolean',
            default: false,
            describe: 'Print one JSON summary line on stdout when stopped',
          })
          .example(
            'IG_APP_SECRET=… IG_WEBHOOK_VERIFY_TOKEN=… $0 listen --port 8788',
            'behind an HTTPS proxy',
          ),
      async (args) => {
        const { listenCommand } = await import('./commands/listen.js');
        result = await listenCommand(args);
      },
    )
    .command(
      'webhook <action>',
      'The account\'s webhook subscription: "webhook subscribe" (messages, reactions, edits, reads) or "webhook status"',
      (y) =>
        y
          .positional('action', { type: 'string', choices: ['subscribe', 'status'], demandOption: true })
          .option('fields', {
            type: 'string',
            default: 'messages,message_reactions,message_edit,messaging_seen',
            describe: 'Webhook fields to subscribe to (comma-separated)',
          })
          .option('token-file', {
            type: 'string',
            describe: 'File holding the access token (otherwise IG_ACCESS_TOKEN)',
          })
          .option('base-url', {
            type: 'string',
            describe: 'Graph API host (default https://graph.instagram.com)',
          })
          .option('api-version', { type: 'string', describe: 'Graph API version (default v23.0)' })
          .option('json', JSON_OPTION)
          .example(
            '$0 webhook subscribe --token-file ~/.ig-token',
            'after setting the callback URL in the Meta app',
          ),
      async (args) => {
        const { webhookCommand } = await import('./commands/webhook.js');
        result = await webhookCommand({
          action: args.action,
          fields: args.fields,
          'token-file': args['token-file'],
          'base-url': args['base-url'],
          'api-version': args['api-version'],
          json: args.json,
          'log-level': args['log-level'],
        });
      },
    )
    .command(
      'probe',
      'Check on a real account every Graph API behaviour ig-export guesses (at most 15 calls) and report what it saw',
      (y) =>
        y
          .option('account', { type: 'string', describe: 'Account id, or me (default me)' })
          .option('token-file', {
            type: 'string',
            describe: 'File holding the access token (otherwise IG_ACCESS_TOKEN)',
          })
          .option('base-url', {
            type: 'string',
            describe: 'Graph API host (default https://graph.instagram.com)',
          })
          .option('api-version', { type: 'string', describe: 'Graph API version (default v23.0)' })
          .option('output', {
            type: 'string',
            describe: 'Output root (default output), for the default state dir',
          })
          .option('state-dir', {
            type: 'string',
            describe: 'Where the report probe-<time>.json goes (default <output>/_state)',
          })
          .option('max-rps', { type: 'number', describe: 'Calls per second (default 2, as for export)' })
          .option('json', JSON_OPTION)
          .example('$0 probe --token-file ~/.ig-token', 'before the first export of a real account'),
      async (args) => {
        const { probeCommand } = await import('./commands/probe.js');
        result = await probeCommand(args);
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
        result = schemaCommand(args);
      },
    )
    .example('$0 demo', 'try it: export the built-in sandbox into ./output')
    .example('IG_ACCESS_TOKEN=… $0 export --json', 'export a real account; one JSON summary line on stdout')
    .epilogue(
      'Exit codes: 0 complete, 1 unexpected error, 2 usage/config/account, 3 token or permission refused, 4 partial snapshot, ' +
        '5 another run holds the lock, 6 window losses (--fail-on-loss), 7 Graph host unreachable, 8 output path unusable, ' +
        '9 verify found a snapshot altered, ' +
        '130 stopped by a signal before publishing. A fleet (accounts in --config) exits with its worst account code, worst first: 130, 1, 3, 2, 8, 9, 7, 6, 4, 5, 0.',
    )
    .demandCommand(
      1,
      'Name a command: export, demo, verify, compact, prune, doctor, probe, token, listen, webhook, sandbox or schema.',
    )
    .strict()
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(120, process.stdout.columns || 120))
    .exitProcess(false)
    .fail((message, error) => {
      if (error) throw error;
      // Inside a command's parse, the instance's options are that command's.
      throw new UsageError(unknownFlagMessage(message, optionNames(cli)));
    });
  try {
    await cli.parseAsync();
  } catch (e) {
    return reportFailure(e, mode);
  }
  if (mode.json && result.summary) writeJsonLine({ ...result.summary, exitCode: result.code });
  return result.code;
}

/**
 * The one error boundary: one line on stderr that says what happened and what to do, a documented exit code, one
 * JSON line on stdout with --json, and the stack trace only at --log-level debug. Every text passes the last-chance
 * redaction of the tokens this process has read.
 */
export function reportFailure(e: unknown, mode: OutputMode): number {
  const secrets = [...knownSecrets(), ...mode.pasted];
  const failure = describeFailure(e);
  const message = redactText(failure.message, secrets);
  const usageHint =
    failure.kind === 'usage'
      ? mode.command === undefined
        ? '\nRun "ig-export --help" for the commands.'
        : `\nRun "ig-export ${mode.command} --help" for its options.`
      : '';
  process.stderr.write(`ig-export: ${message}${usageHint}\n`);
  if (mode.debug && e instanceof Error && e.stack) process.stderr.write(`${redactText(e.stack, secrets)}\n`);
  if (mode.json) {
    const error = {
      kind: failure.kind,
      message,
      ...(failure.graphCode === undefined ? {} : { code: failure.graphCode }),
    };
    process.stdout.write(`${JSON.stringify({ status: 'failed', exitCode: failure.code, error })}\n`);
  }
  return failure.code;
}

// `ig-export schema | head` closes stdout early: that is the reader's choice, not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

const argv = hideBin(process.argv);
main(argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.exitCode = reportFailure(e, outputMode(argv));
  },
);
