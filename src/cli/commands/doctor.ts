import { systemRandom } from '../system-random.js';
import { systemClock } from '../../clock.js';
import {
  doctorChecks,
  TokenExpiringError,
  type DoctorCheck,
} from '../../pipeline/account-tools/doctor-checks.js';
import { knownSecrets, readAccessToken } from '../access-token.js';
import { createCliLogger, type LogLevel } from '../cli-logger.js';
import { ExitCode, worstExitCode, type CommandResult } from '../exit-codes.js';
import {
  accountSettings,
  loadConfigFile,
  mergeSettings,
  toExportOptions,
  type ExportSettings,
  type FleetAccount,
} from '../export-settings.js';
import { describeFailure } from '../failure-report.js';
import { fleetFrom } from '../fleet-selection.js';
import type { ExportArgs } from './export.js';

/** The same flags as export (doctor checks what an export with them needs). */
export type DoctorArgs = ExportArgs;

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

function nodeCheck(): DoctorCheck {
  const major = Number(process.versions.node.split('.')[0]);
  return major >= MIN_NODE_MAJOR
    ? { name: 'node', ok: true, detail: `Node ${process.version}` }
    : {
        name: 'node',
        ok: false,
        detail: `Node ${process.version} is too old: install Node ${MIN_NODE_MAJOR} or later`,
      };
}

/** The token check, then (with a token) the account's checks. */
async function accountChecks(
  settings: ExportSettings,
  entry: FleetAccount | undefined,
  logLevel: LogLevel,
): Promise<DoctorCheck[]> {
  const tokenEnv = entry?.token_env;
  const checks: DoctorCheck[] = [];
  let token: Awaited<ReturnType<typeof readAccessToken>> | undefined;
  try {
    token = await readAccessToken(
      settings['token-file'],
      process.env,
      tokenEnv,
      entry === undefined ? '--token-file' : 'token_file',
    );
    checks.push({
      name: 'token',
      ok: true,
      detail:
        `read from ${token.source === 'file' ? settings['token-file'] : (tokenEnv ?? 'IG_ACCESS_TOKEN')}` +
        (token.warning === undefined ? '' : `; warning: ${token.warning}`),
    });
  } catch (error) {
    checks.push({ name: 'token', ok: false, detail: (error as Error).message, error });
  }
  if (token) {
    const logger = createCliLogger(logLevel, () => knownSecrets());
    checks.push(
      ...(await doctorChecks(toExportOptions(settings, token), {
        clock: systemClock,
        random: systemRandom,
        logger,
      })),
    );
  }
  return checks;
}

/**
 * `ig-export doctor`: checks what an export with the same options needs — Node, the token, the account, the
 * messaging permission, the output and state directories, the lock, the token's expiry — and prints each with OK or
 * what to do. Exit 0 only when every check passes; otherwise the code of the first failure (2, 3, 5, 7 or 8). With a
 * fleet config, every selected account is checked and the exit code is the worst account's.
 */
export async function doctorCommand(args: DoctorArgs): Promise<CommandResult> {
  const config =
    args.config === undefined ? { settings: {}, accounts: undefined } : await loadConfigFile(args.config);
  const settings = mergeSettings(config.settings, args);
  const fleet = fleetFrom(config, args);
  const targets: Array<{ entry: FleetAccount | undefined; settings: ExportSettings }> =
    fleet === undefined
      ? [{ entry: undefined, settings }]
      : fleet.map((entry) => ({ entry, settings: accountSettings(settings, entry) }));
  const lines: Array<{
    account: string | undefined;
    name: string;
    ok: boolean;
    code: number;
    advice: string;
  }> = [];
  const node = nodeCheck();
  lines.push({ account: undefined, name: node.name, ok: node.ok, ...verdict(node) });
  for (const target of targets) {
    const checks = await accountChecks(target.settings, target.entry, args['log-level']);
    lines.push(
      ...checks.map((c) => ({ account: target.entry?.name, name: c.name, ok: c.ok, ...verdict(c) })),
    );
  }
  const failed = lines.filter((l) => !l.ok);
  if (!args.json) {
    for (const l of lines)
      process.stdout.write(
        `${l.ok ? 'OK  ' : 'FAIL'}  ${l.account === undefined ? '' : `[${l.account}] `}${l.name.padEnd(20)} ${l.advice}\n`,
      );
    process.stdout.write(
      failed.length === 0 ? 'All checks passed.\n' : `${failed.length} check(s) failed.\n`,
    );
  }
  // One account: the first failure's code. A fleet: each account's first failure, and the worst of those.
  const firstFailures = [undefined, ...targets.map((t) => t.entry?.name)].flatMap(
    (account) => failed.find((l) => l.account === account)?.code ?? [],
  );
  const code = fleet === undefined ? (failed[0]?.code ?? ExitCode.Ok) : worstExitCode(firstFailures);
  return {
    code,
    summary: {
      status: failed.length === 0 ? 'ok' : 'failed',
      checks: lines.map((l) => ({
        ...(l.account === undefined ? {} : { account: l.account }),
        name: l.name,
        ok: l.ok,
        detail: l.advice,
      })),
    },
  };
}
