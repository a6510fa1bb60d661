import { closestName } from './issue-wording.js';
import { redactText, secretLookingArgs } from '../graph/redact.js';
import { knownSecrets } from './access-token.js';

/** How a failure is told: read from argv before parsing, so that even a parse failure answers in the form asked for. */
export interface OutputMode {
  json: boolean;
  debug: boolean;
  /** Arguments that look like a pasted token (never echoed in an error about them). */
  pasted: string[];
  /** The command given, when argv names one (usage errors point at its --help). */
  command: string | undefined;
}

export function outputMode(argv: readonly string[], commands: readonly string[]): OutputMode {
  const json = argv.some((a) => a === '--json' || a === '--json=true');
  const level = argv.findIndex((a) => a === '--log-level');
  const debug = argv.includes('--log-level=debug') || (level >= 0 && argv[level + 1] === 'debug');
  const command = argv.find((a) => !a.startsWith('-'));
  return {
    json,
    debug,
    pasted: secretLookingArgs(argv),
    command: command !== undefined && commands.includes(command) ? command : undefined,
  };
}

/** What the parse failed on, for naming it: the command given, its flags, and the words typed. */
export interface ParseContext {
  command: string | undefined;
  known: readonly string[];
  argv: readonly string[];
}

/** What each command's positional argument is, for when it is missing. */
const MISSING_POSITIONAL: Record<string, string> = {
  verify: 'name what to verify: ig-export verify <snapshot folder, account folder or output root>…',
  token: 'name the action: ig-export token refresh',
  webhook: 'name the action: ig-export webhook subscribe, or ig-export webhook status',
  'import-dyi':
    'name the archive: ig-export import-dyi <the .zip Instagram gave, or the folder it unpacks to>',
};

/** `--name` when it was typed as a flag, `name` when it is a command's positional argument. */
function spelled(name: string, argv: readonly string[]): string {
  return argv.some((a) => a === `--${name}` || a.startsWith(`--${name}=`)) ? `--${name}` : name;
}

/** yargs' "Invalid values:" block, one `Argument: compression, Given: "lz4", Choices: "zstd", …` line per option. */
function choicesMessage(message: string, argv: readonly string[]): string {
  return message
    .split('\n')
    .slice(1)
    .flatMap((line) => {
      const m = /Argument: ([^,]+), Given: (.*), Choices: (.*)$/.exec(line.trim());
      if (!m?.[1]) return [];
      const choices = (m[3] ?? '').split(', ').map((c) => c.replace(/^"(.*)"$/, '$1'));
      return [`${spelled(m[1], argv)} must be one of ${choices.join(', ')} (got ${m[2] ?? ''})`];
    })
    .join('; ');
}

/** "Unknown argument: max-rsp" names the flag that was probably meant. */
function unknownFlags(names: string, known: readonly string[]): string {
  return names
    .split(', ')
    .map((name) => {
      const flag = name.length === 1 ? `-${name}` : `--${name}`;
      const best = closestName(name, known);
      return best ? `unknown option ${flag} (did you mean --${best}?)` : `unknown option ${flag}`;
    })
    .join('; ');
}

/** yargs' parse failures as one line naming the flag (or argument) and what to do. */
export function usageMessage(message: string, context: ParseContext): string {
  if (message.startsWith('Did you mean')) return `unknown command; ${message.replace('Did', 'did')}`;
  if (message.startsWith('Not enough non-option arguments')) {
    const command = context.command ?? '';
    return MISSING_POSITIONAL[command] ?? `${message}; see ig-export ${command} --help`;
  }
  const bare = /^Not enough arguments following: (.+)$/.exec(message);
  if (bare?.[1]) return `--${bare[1]} needs a value (--${bare[1]} <value>)`;
  if (message.startsWith('Invalid values:'))
    return choicesMessage(message, context.argv) || message.replace(/\s*\n\s*/g, ' ');
  const unknown = /^Unknown arguments?: (.*)$/.exec(message);
  return unknown?.[1] ? unknownFlags(unknown[1], context.known) : message;
}

/**
 * The one error boundary: one line on stderr that says what happened and what to do, a documented exit code, one
 * JSON line on stdout with --json, and the stack trace only at --log-level debug. Every text passes the last-chance
 * redaction of the tokens this process has read. The error classes it tells apart live beside the code that throws
 * them, so it is loaded only when something failed: `--version`, `--help` and `schema` never load the pipeline.
 */
export async function reportFailure(e: unknown, mode: OutputMode): Promise<number> {
  const secrets = [...knownSecrets(), ...mode.pasted];
  const { describeFailure } = await import('./failure-report.js');
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

/**
 * `main` exits as soon as a command has its outcome, so an event loop that empties first means a command's work stopped
 * without one: a promise nothing will settle (the probe's full disk once left the NDJSON writer waiting so). Node would
 * end with 0 and print nothing, and a cron run would count it as done; it is reported as an unexpected failure instead.
 */
export function failIfLeftUnsettled(mode: OutputMode): void {
  process.once('beforeExit', () => {
    const stalled = new Error(
      'the command stopped before it finished, with nothing left to wait for; treat its work as incomplete, ' +
        'run it again and check the output with "ig-export verify"',
    );
    void reportFailure(stalled, mode).then((code) => process.exit(code));
  });
}
