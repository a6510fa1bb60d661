#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ALL_COMMANDS } from './definitions/all-commands.js';
import { LOG_LEVELS } from './definitions/shared-options.js';
import { failIfLeftUnsettled, outputMode, reportFailure, usageMessage } from './error-boundary.js';
import { ExitCode, UsageError, type CommandResult } from './exit-codes.js';
import { writeJsonLine } from './json-output.js';
import { stopWhenLauncherGone } from './stop-signals.js';
import { tierUpWasmLater } from '../writers/wasm-tiering.js';

/** The bin entry: yargs over the command definitions, and the one error boundary that maps errors to exit codes. */

const COMMAND_NAMES = ALL_COMMANDS.map((c) => c.name);

const EXIT_CODES_EPILOGUE =
  'Exit codes: 0 complete, 1 unexpected error, 2 usage/config/account, 3 token or permission refused, 4 partial snapshot, ' +
  '5 another run holds the lock, 6 window losses (--fail-on-loss), 7 Graph host unreachable, 8 output path unusable, ' +
  '9 verify found a snapshot altered, ' +
  '130 stopped by a signal before publishing. A fleet (accounts in --config) exits with its worst account code, worst first: 130, 1, 3, 2, 8, 9, 7, 6, 4, 5, 0.';

/** yargs has the parsed command's options at run time but does not type the accessor. */
function optionNames(cli: unknown): string[] {
  return Object.keys((cli as { getOptions(): { key: Record<string, unknown> } }).getOptions().key);
}

/**
 * yargs renders the whole help text after it starts any command, to print it should the command fail later. ig-export
 * prints one line on a failure instead, and rendering export's 40 options costs about 90 ms of CPU per run: skipped,
 * where this yargs has the hook.
 */
function skipHelpPrerender(cli: unknown): void {
  type Usage = { cacheHelpMessage?: () => void };
  const internals = (cli as { getInternalMethods?: () => { getUsageInstance?: () => Usage } })
    .getInternalMethods;
  const usage = internals?.call(cli).getUsageInstance?.();
  if (usage?.cacheHelpMessage) usage.cacheHelpMessage = () => undefined;
}

export async function main(argv: string[]): Promise<number> {
  tierUpWasmLater();
  stopWhenLauncherGone();
  const mode = outputMode(argv, COMMAND_NAMES);
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
    });
  for (const command of ALL_COMMANDS)
    command.register(cli, (r) => {
      result = r;
    });
  cli
    .example('$0 demo', 'try it: export the built-in sandbox into ./output')
    .example('IG_ACCESS_TOKEN=… $0 export --json', 'export a real account; one JSON summary line on stdout')
    .epilogue(EXIT_CODES_EPILOGUE)
    .demandCommand(
      1,
      'Name a command: export, demo, verify, compact, import-dyi, prune, doctor, probe, token, listen, webhook, sandbox or schema.',
    )
    .strict()
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(120, process.stdout.columns || 120))
    .exitProcess(false)
    .fail((message, error) => {
      // yargs' own parse errors (a flag without its value) come as a YError; a command's failure is rethrown as is.
      if (error && error.name !== 'YError') throw error;
      // Inside a command's parse, the instance's options are that command's.
      const context = { command: mode.command, known: optionNames(cli), argv };
      throw new UsageError(usageMessage(message ?? error?.message ?? '', context));
    });
  skipHelpPrerender(cli);
  try {
    await cli.parseAsync();
  } catch (e) {
    return reportFailure(e, mode);
  }
  if (mode.json && result.summary) writeJsonLine({ ...result.summary, exitCode: result.code });
  return result.code;
}

// `ig-export schema | head` closes stdout early: that is the reader's choice, not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

// The outcome is decided and told: exit now with its code. Left to end by itself, the process would spend its last
// ~25 ms stopping the idle encoder threads with Node's default signal action back in place, and a Ctrl-C then would end
// it by the signal (130 to the shell) after a summary that says 4 or 0.
const argv = hideBin(process.argv);
failIfLeftUnsettled(outputMode(argv, COMMAND_NAMES));
main(argv).then(
  (code) => process.exit(code),
  async (e: unknown) => {
    process.exitCode = await reportFailure(e, outputMode(argv, COMMAND_NAMES));
    process.exit();
  },
);
