import leven from 'leven';
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

/** yargs says "Unknown argument: max-rsp"; say which flag was meant. */
export function unknownFlagMessage(message: string, known: readonly string[]): string {
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
