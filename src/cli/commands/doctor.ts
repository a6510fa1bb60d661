import { systemRandom } from '../system-random.js';
import { systemClock } from '../../clock.js';
import { doctorChecks, TokenExpiringError, type DoctorCheck } from '../../pipeline/doctor-checks.js';
import { knownSecrets, readAccessToken } from '../access-token.js';
import { createCliLogger, type LogLevel } from '../cli-logger.js';
import { ExitCode, type CommandResult } from '../exit-codes.js';
import { loadConfigFile, mergeSettings, toExportOptions } from '../export-settings.js';
import { describeFailure } from '../failure-report.js';

export interface DoctorArgs {
  config?: string | undefined;
  json: boolean;
  'log-level': LogLevel;
  [flag: string]: unknown;
}

const MIN_NODE_MAJOR = 20;

/** The documented exit code of a failed check, and the line that says what to do. */
function verdict(check: DoctorCheck): { code: number; advice: string } {
  if (check.ok) return { code: ExitCode.Ok, advice: check.detail };
  if (check.name === 'node') return { code: ExitCode.Usage, advice: check.detail };
  if (check.error instanceof TokenExpiringError) return { code: ExitCode.Auth, advice: check.detail };
  const failure = describeFailure(check.error);
  if (failure.kind !== 'unexpected') return { code: failure.code, advice: failure.message };
  // A folder that exists but is nearly full: no error class of its own.
  const folder = check.name === 'output directory' || check.name === 'state directory';
  return { code: folder ? ExitCode.Filesystem : ExitCode.Error, advice: check.detail };
}

/**
 * `ig-export doctor`: checks what an export with the same options needs — Node, the token, the account, the
 * messaging permission, the output and state directories, the lock, the token's expiry — and prints each with OK or
 * what to do. Exit 0 only when every check passes; otherwise the code of the first failure (2, 3, 5, 7 or 8).
 */
export async function doctorCommand(args: DoctorArgs): Promise<CommandResult> {
  const config = args.config === undefined ? {} : await loadConfigFile(args.config);
  const settings = mergeSettings(config, args);
  const checks: DoctorCheck[] = [];
  const major = Number(process.versions.node.split('.')[0]);
  checks.push(
    major >= MIN_NODE_MAJOR
      ? { name: 'node', ok: true, detail: `Node ${process.version}` }
      : {
          name: 'node',
          ok: false,
          detail: `Node ${process.version} is too old: install Node ${MIN_NODE_MAJOR} or later`,
        },
  );
  let token: Awaited<ReturnType<typeof readAccessToken>> | undefined;
  try {
    token = await readAccessToken(settings['token-file'], process.env);
    checks.push({
      name: 'token',
      ok: true,
      detail: `read from ${token.source === 'file' ? settings['token-file'] : 'IG_ACCESS_TOKEN'}`,
    });
  } catch (error) {
    checks.push({ name: 'token', ok: false, detail: (error as Error).message, error });
  }
  if (token) {
    const logger = createCliLogger(args['log-level'], () => knownSecrets());
    checks.push(
      ...(await doctorChecks(toExportOptions(settings, token), {
        clock: systemClock,
        random: systemRandom,
        logger,
      })),
    );
  }
  const failed = checks.filter((c) => !c.ok);
  const lines = checks.map((c) => ({ name: c.name, ok: c.ok, ...verdict(c) }));
  if (!args.json) {
    for (const l of lines)
      process.stdout.write(`${l.ok ? 'OK  ' : 'FAIL'}  ${l.name.padEnd(20)} ${l.advice}\n`);
    process.stdout.write(
      failed.length === 0 ? 'All checks passed.\n' : `${failed.length} check(s) failed.\n`,
    );
  }
  const first = lines.find((l) => !l.ok);
  return {
    code: first === undefined ? ExitCode.Ok : first.code,
    summary: {
      status: first === undefined ? 'ok' : 'failed',
      checks: lines.map((l) => ({ name: l.name, ok: l.ok, detail: l.advice })),
    },
  };
}
