import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import pLimit from 'p-limit';
import { withLogFields, type Logger } from '../logger.js';
import { readAccessToken, knownSecrets } from './access-token.js';
import { ExitCode, UsageError, worstExitCode, type CommandResult } from './exit-codes.js';
import { exportAccount } from './export-account.js';
import { accountSettings, type ExportSettings, type FleetAccount } from './export-settings.js';
import { describeFailure } from './failure-report.js';
import { writeJsonLine } from './json-output.js';
import type { ProgressDisplay } from './progress-display.js';
import { redactText } from '../graph/redact.js';
import { APPENDS_AT_ONCE } from '../writers/append-only-file.js';
import { MAX_ENCODER_THREADS } from '../writers/encoder-pool.js';

export interface FleetContext {
  logger: Logger;
  json: boolean;
  signal: AbortSignal;
  display: ProgressDisplay | undefined;
  /** What chose these accounts, for the fleet line. */
  selection: { listed: number; names: readonly string[] | null; shard: string | null };
  /** Waits between the first wave's starts (real time unless a test gives its own). */
  sleep?: ((ms: number, signal: AbortSignal) => Promise<void>) | undefined;
}

/** One account's outcome in the fleet line. */
interface AccountOutcome {
  account: string;
  accountId: string;
  status: string;
  exitCode: number;
  calls: number;
}

/**
 * Open files a running account holds: its state database and its connection, and one more for a second connection
 * (a media download, a token refresh). Table files hold a descriptor only while a chunk is appended or no other file
 * needs one, a bounded number at once in the whole process (see writers/append-only-file.ts); the state's journal
 * only while a commit writes.
 */
const FILES_PER_ACCOUNT = 3;
/** The process's own (standard streams, event loops, lock files) and the table files being appended at once. */
const BASE_FILES = 64 + APPENDS_AT_ONCE * (1 + MAX_ENCODER_THREADS);

/** Between the starts of the first wave's accounts: 500 accounts start within 5 s. */
const START_STAGGER_MS = 10;

/** The soft limit on open files (Linux's /proc/self/limits), or undefined where it cannot be read. */
function openFileLimit(): number | undefined {
  try {
    const line = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1];
    return line === undefined || line === 'unlimited' ? undefined : Number(line);
  } catch {
    return undefined;
  }
}

/** Refuses, before any account starts, a concurrency the open-file limit cannot carry (it would fail mid-run). */
function checkOpenFileLimit(atOnce: number, limit = openFileLimit()): void {
  const needed = BASE_FILES + FILES_PER_ACCOUNT * atOnce;
  if (limit !== undefined && needed > limit)
    throw new UsageError(
      `${atOnce} accounts at once need about ${needed} open files and this process may open ${limit}: ` +
        `raise the limit (ulimit -n ${needed}, or LimitNOFILE= in a systemd unit) or lower --account-concurrency to ${Math.max(1, Math.floor((limit - BASE_FILES) / FILES_PER_ACCOUNT))}`,
    );
}

/**
 * Exports the accounts of a fleet config, `account-concurrency` at a time. Each account is a run of its own — its
 * token, its call budget (`--max-rps` each: Meta's limit is per account), its lock, state and snapshots — tagged
 * with its name in logs and in its `--json` line, printed as it ends. One account's failure, of any kind, is its
 * own: it is reported and the others go on. The command's answer is the fleet line, with the worst exit code by
 * EXIT_SEVERITY.
 */
export async function exportFleet(
  settings: ExportSettings,
  accounts: readonly FleetAccount[],
  ctx: FleetContext,
): Promise<CommandResult> {
  checkOpenFileLimit(Math.min(settings['account-concurrency'], accounts.length));
  const limit = pLimit(settings['account-concurrency']);
  // Each account's text summary as it ends; behind the live display, once it has stopped (a frame redrawn on the
  // terminal would erase lines printed under it).
  const deferred: string[] = [];
  const print = (text: string): void => {
    if (ctx.display) deferred.push(text);
    else process.stdout.write(text);
  };
  let running = 0;
  let finished = 0;
  const header = (): string =>
    `ig-export fleet  ${accounts.length} accounts: ${running} running, ${finished} finished, ${accounts.length - running - finished} waiting`;
  ctx.display?.setHeader(header());
  if (accounts.length === 0)
    ctx.logger.warn(
      `no account selected (${ctx.selection.listed} listed${ctx.selection.shard === null ? '' : `, shard ${ctx.selection.shard}`}): nothing to export`,
    );

  const exportOne = async (entry: FleetAccount): Promise<AccountOutcome> => {
    const logger = withLogFields(ctx.logger, { account: entry.name });
    running++;
    ctx.display?.setHeader(header());
    let code: number;
    let summary: Record<string, unknown>;
    try {
      if (ctx.signal.aborted) throw new FleetStoppedError();
      const token = await readAccessToken(entry.token_file, process.env, entry.token_env, 'token_file');
      if (token.warning !== undefined) logger.warn(token.warning);
      let text: string;
      ({ code, summary, text } = await exportAccount(accountSettings(settings, entry), token, logger, {
        json: ctx.json,
        signal: ctx.signal,
        label: entry.name,
        onProgress: ctx.display ? (p) => ctx.display?.show(p, entry.name) : undefined,
      }));
      print(text);
    } catch (e) {
      let message: string;
      ({ code, summary, message } = failedAccount(e, entry, logger));
      if (!ctx.json) print(`[${entry.name}] FAILED (exit ${code}): ${message}\n`);
    } finally {
      running--;
      finished++;
      ctx.display?.setHeader(header());
    }
    if (ctx.json) writeJsonLine({ account: entry.name, ...summary, exitCode: code });
    return {
      account: entry.name,
      accountId: typeof summary['accountId'] === 'string' ? summary['accountId'] : entry.account,
      status: typeof summary['status'] === 'string' ? summary['status'] : 'failed',
      exitCode: code,
      calls: typeof summary['calls'] === 'number' ? summary['calls'] : 0,
    };
  };

  // The first wave starts staggered: accounts that start at once load their state and make their first calls at
  // once, and a stall of the event loop then delays them all together.
  const atOnce = settings['account-concurrency'];
  const sleep = ctx.sleep ?? ((ms: number, signal: AbortSignal) => delay(ms, undefined, { signal }));
  const outcomes = await Promise.all(
    accounts.map((entry, i) =>
      limit(async () => {
        if (i > 0 && i < atOnce) await sleep(i * START_STAGGER_MS, ctx.signal).catch(() => undefined);
        return exportOne(entry);
      }),
    ),
  );
  const { code, summary } = fleetSummary(outcomes, ctx.selection);
  ctx.display?.stop();
  for (const text of deferred) process.stdout.write(text);
  if (!ctx.json) process.stdout.write(fleetLine(outcomes, ctx.selection, summary, code));
  return { code, summary };
}

/** One account's failure, of any kind, as its own exit code and JSON summary (the message redacted). */
function failedAccount(
  e: unknown,
  entry: FleetAccount,
  logger: Logger,
): { code: number; summary: Record<string, unknown>; message: string } {
  const failure =
    e instanceof FleetStoppedError
      ? {
          code: ExitCode.Interrupted,
          kind: 'interrupted',
          message: 'not started: the fleet was stopped by a signal',
          graphCode: undefined,
        }
      : describeFailure(e);
  const message = redactText(failure.message, knownSecrets());
  logger.error(message);
  return {
    code: failure.code,
    message,
    summary: {
      status: 'failed',
      accountId: entry.account,
      error: {
        kind: failure.kind,
        message,
        ...(failure.graphCode === undefined ? {} : { code: failure.graphCode }),
      },
    },
  };
}

/** The fleet's answer: its status and counts, and the worst exit code by EXIT_SEVERITY. */
function fleetSummary(
  outcomes: AccountOutcome[],
  selection: FleetContext['selection'],
): { code: number; summary: FleetSummary } {
  const count = (status: string): number => outcomes.filter((o) => o.status === status).length;
  const status = outcomes.every((o) => o.status === 'complete')
    ? 'complete'
    : outcomes.every((o) => o.status === 'failed')
      ? 'failed'
      : 'partial';
  return {
    code: worstExitCode(outcomes.map((o) => o.exitCode)),
    summary: {
      fleet: true,
      status,
      accounts: outcomes.length,
      listed: selection.listed,
      selectedNames: selection.names,
      shard: selection.shard,
      complete: count('complete'),
      partial: count('partial'),
      failed: count('failed'),
      calls: outcomes.reduce((sum, o) => sum + o.calls, 0),
      results: outcomes,
    },
  };
}

type FleetSummary = {
  fleet: true;
  status: string;
  accounts: number;
  listed: number;
  selectedNames: FleetContext['selection']['names'];
  shard: FleetContext['selection']['shard'];
  complete: number;
  partial: number;
  failed: number;
  calls: number;
  results: AccountOutcome[];
};

/** The text summary's last line. */
function fleetLine(
  outcomes: AccountOutcome[],
  selection: FleetContext['selection'],
  summary: FleetSummary,
  code: number,
): string {
  const bad = outcomes.filter((o) => o.exitCode !== ExitCode.Ok);
  return (
    `Fleet: ${outcomes.length} of ${selection.listed} accounts${selection.shard === null ? '' : ` (shard ${selection.shard})`}: ` +
    `${summary.complete} complete, ${summary.partial} partial, ${summary.failed} failed; ${summary.calls} API calls` +
    `${bad.length === 0 ? '' : `; ${bad.map((o) => `${o.account} exit ${o.exitCode}`).join(', ')}`}; exit code ${code}\n`
  );
}

/** An account that had not started when the fleet was stopped. */
class FleetStoppedError extends Error {
  override name = 'FleetStoppedError';
}
