import {
  AccountNotFoundError,
  GraphAuthError,
  GraphConfigError,
  GraphRequestError,
  NotGraphApiError,
} from '../graph/errors.js';
import { asOutputPathError } from '../output-path.js';
import { SpoolUnusableError } from '../listener/webhook-server.js';
import { CurrentViewAlteredError, SnapshotAlteredError } from '../snapshots/current-view.js';
import { DuckDbMemoryError } from '../snapshots/duckdb-memory.js';
import { NoSuchConversationError, TimeWindowConflictError } from '../pipeline/conversation-planner.js';
import { ManifestError } from '../snapshots/manifest.js';
import { RunLockedError } from '../state/run-lock.js';
import { StateFileCorruptError } from '../state/state-store.js';
import { ExitCode, InterruptedError, UsageError } from './exit-codes.js';

/** A failure as the user sees it: one line that says what happened and what to do, and its exit code. */
export interface FailureReport {
  code: number;
  /** Machine-readable: usage, account, user, auth, locked, network, filesystem, interrupted, graph, memory, unexpected. */
  kind: string;
  message: string;
  /** The Graph error code, when the API gave one. */
  graphCode?: number | undefined;
}

const NETWORK_REASONS: Array<[RegExp, string]> = [
  [/^ECONNREFUSED$/, 'connection refused: nothing listens at that address and port'],
  [/^(ENOTFOUND|EAI_NONAME)$/, 'host name not found (DNS)'],
  [/^EAI_AGAIN$/, 'DNS lookup failed for now'],
  // `timeout` is ours: the per-request limit the user set (or left at 30 s). The others are the system's and undici's.
  [/^timeout$/, 'no answer within --timeout-ms'],
  [/^(ETIMEDOUT|UND_ERR_CONNECT_TIMEOUT|UND_ERR_HEADERS_TIMEOUT)$/, 'no answer before the timeout'],
  [/^(ECONNRESET|EPIPE|UND_ERR_SOCKET)$/, 'the connection was closed by the other side'],
  [/^(EHOSTUNREACH|ENETUNREACH|ENETDOWN)$/, 'network unreachable'],
  [/(CERT|TLS|SSL)/, 'TLS certificate or handshake problem'],
];

function networkReason(code: string | undefined): string {
  const found = NETWORK_REASONS.find(([pattern]) => pattern.test(code ?? ''));
  return `${code ?? 'connection failed'}${found ? `, ${found[1]}` : ''}`;
}

export function describeFailure(e: unknown): FailureReport {
  if (e instanceof UsageError) return { code: ExitCode.Usage, kind: 'usage', message: e.message };
  if (e instanceof RunLockedError) return { code: ExitCode.Locked, kind: 'locked', message: e.message };
  if (e instanceof InterruptedError)
    return { code: ExitCode.Interrupted, kind: 'interrupted', message: e.message };
  if (e instanceof GraphAuthError)
    return { code: ExitCode.Auth, kind: 'auth', message: e.message, graphCode: e.request.graphError?.code };
  if (e instanceof NoSuchConversationError) return { code: ExitCode.Usage, kind: 'user', message: e.message };
  if (e instanceof GraphConfigError || e instanceof NotGraphApiError)
    return { code: ExitCode.Usage, kind: 'usage', message: e.message };
  if (e instanceof ManifestError)
    return {
      code: ExitCode.VerifyFailed,
      kind: 'snapshot',
      message: `${e.message}; check the snapshot with "ig-export verify"`,
    };
  if (e instanceof SpoolUnusableError)
    return {
      code: ExitCode.Filesystem,
      kind: 'filesystem',
      message: `the webhook spool cannot be written (${e.message}); fix the folder or choose another --state-dir`,
    };
  if (e instanceof CurrentViewAlteredError || e instanceof SnapshotAlteredError)
    return { code: ExitCode.VerifyFailed, kind: 'snapshot', message: e.message };
  // The account's data outgrew the limit the user can raise: a setting to change before the next run works.
  if (e instanceof DuckDbMemoryError) return { code: ExitCode.Usage, kind: 'memory', message: e.message };
  if (e instanceof StateFileCorruptError) return { code: ExitCode.Usage, kind: 'state', message: e.message };
  if (e instanceof TimeWindowConflictError)
    return { code: ExitCode.Usage, kind: 'usage', message: e.message };
  if (e instanceof AccountNotFoundError)
    return {
      code: ExitCode.Usage,
      kind: 'account',
      message: e.message,
      graphCode: e.request.graphError?.code,
    };
  if (e instanceof GraphRequestError && e.status === undefined) {
    return {
      code: ExitCode.Network,
      kind: 'network',
      message:
        `cannot reach ${e.origin ?? 'the Graph API'} (${networkReason(e.networkCode)}), even after retries; ` +
        'check --base-url, DNS, proxy settings and the network',
    };
  }
  if (e instanceof GraphRequestError)
    return { code: ExitCode.Error, kind: 'graph', message: e.message, graphCode: e.graphError?.code };
  const path = asOutputPathError(e);
  if (path) {
    return {
      code: ExitCode.Filesystem,
      kind: 'filesystem',
      message: `${path.message}; choose another ${path.flag ?? '--output (or --state-dir)'} or fix the directory`,
    };
  }
  // One line: DuckDB's errors, for one, go on with a list of settings to try (the stack trace at debug has it all).
  const message = (e instanceof Error ? e.message : String(e)).split('\n')[0]!.trim();
  return {
    code: ExitCode.Error,
    kind: 'unexpected',
    message: `unexpected error: ${message} (run with --log-level debug for the stack trace, and please report it)`,
  };
}
