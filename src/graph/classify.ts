/**
 * The one place a failed Graph call is classified (contract §4). Classification follows the JSON `error.code`,
 * `error_subcode` and `is_transient` first and the HTTP status only when the body says nothing: Meta throttles with
 * HTTP 400 and sometimes disguises a throttle as 100/33.
 */
export type FailureKind =
  /** Rate limited: stop every call of the account for `waitMs`, then retry. */
  | 'throttled'
  /** Retry with exponential backoff. */
  | 'transient'
  /** Code 1 "reduce the amount of data": retry with half the page size. */
  | 'shrink'
  /** 100/33 "does not exist…": a few retries (Meta sometimes throttles with it), then the object is unavailable. */
  | 'not_found_or_throttled'
  /** The message has been deleted, or fell out of the 20-message window: a final answer, never retried. */
  | 'gone'
  /** Token or permission problem: stop the account's run. */
  | 'auth'
  | 'fatal';

export interface GraphErrorBody {
  message?: string;
  type?: string;
  code?: number;
  error_subcode?: number;
  is_transient?: boolean;
  fbtrace_id?: string;
}

export interface FailureFacts {
  /** HTTP status, when a response arrived. */
  status?: number | undefined;
  /** The parsed `error` object of a JSON error envelope. */
  error?: GraphErrorBody | undefined;
  /** The body was not JSON (an HTML page from a proxy, a truncated body). */
  unparseableBody?: boolean | undefined;
  /** The response's Content-Type, when a response arrived. */
  contentType?: string | undefined;
  /** No (complete) response: connection reset, socket closed, DNS, timeout. */
  network?: 'timeout' | 'connection' | undefined;
  /** The system's code for a network failure (ECONNREFUSED, ENOTFOUND, CERT_HAS_EXPIRED, …), when known. */
  networkCode?: string | undefined;
  /** `estimated_time_to_regain_access` from the usage headers, in minutes. */
  regainMinutes?: number | undefined;
}

export interface Classification {
  kind: FailureKind;
  /** Short machine-readable reason, e.g. `code_80002`, `http_502`, `timeout`. */
  reason: string;
  /** For `throttled`: how long the server asked us to wait, when it said. */
  waitMs?: number;
  /** For `auth`: what the operator should do. */
  hint?: string;
}

/** Where the hint says the token comes from; the client names the real source instead when it knows it. */
export const TOKEN_SOURCE = 'IG_ACCESS_TOKEN / --token-file';

/** Graph codes that mean "rate limited" (G-RL; Airbyte's list plus the BUC range 80000–80014). */
const THROTTLE_CODES = new Set([4, 17, 32, 341, 368, 613]);
const isThrottleCode = (code: number): boolean =>
  THROTTLE_CODES.has(code) || (code >= 80000 && code <= 80014);

function authHint(code: number, subcode: number | undefined, message: string): string {
  if (code === 190 && subcode === 463) {
    const at = /expired on ([^.]+)\./.exec(message)?.[1];
    return `the access token expired${at ? ` on ${at}` : ''}; create a new long-lived token (or refresh it before it expires) and run again`;
  }
  if (code === 190 && subcode === 460)
    return 'the token was invalidated (password change or security event); log in again to get a new token';
  if (code === 190 || code === 102)
    return `the access token is invalid; check ${TOKEN_SOURCE} and that it is an Instagram-Login token for graph.instagram.com`;
  return 'the token lacks a permission; it needs instagram_business_basic and instagram_business_manage_messages';
}

/**
 * The answer is not the Graph API's: a page that is not JSON, or an error status with no Graph error envelope (a
 * web server's 404). A server error (5xx) is left out: a Graph host may answer one through its proxies.
 */
export function notGraphAnswer(facts: FailureFacts): boolean {
  const status = facts.status;
  if (status === undefined || status >= 500) return false;
  if (facts.unparseableBody) return true;
  return status >= 400 && (facts.error === undefined || typeof facts.error.code !== 'number');
}

export function classifyFailure(facts: FailureFacts): Classification {
  if (facts.network) return { kind: 'transient', reason: facts.network };
  const e = facts.error;
  if (e && typeof e.code === 'number') {
    const { code } = e;
    const subcode = e.error_subcode;
    const message = e.message ?? '';
    // A permission code whose message says the message is deleted is the window's answer (its code is a GUESS),
    // not a token problem: stopping the whole run for it would lose every conversation after it.
    if ((code === 10 || (code >= 200 && code <= 299)) && /has been deleted/i.test(message))
      return { kind: 'gone', reason: `code_${code}_deleted` };
    if (code === 190 || code === 102 || code === 10 || (code >= 200 && code <= 299)) {
      return {
        kind: 'auth',
        reason: `code_${code}${subcode ? `_${subcode}` : ''}`,
        hint: authHint(code, subcode, message),
      };
    }
    if (isThrottleCode(code)) {
      const minutes = facts.regainMinutes ?? 0;
      return minutes > 0
        ? { kind: 'throttled', reason: `code_${code}`, waitMs: minutes * 60_000 }
        : { kind: 'throttled', reason: `code_${code}` };
    }
    if (code === 1 && /reduce the amount of data/i.test(message))
      return { kind: 'shrink', reason: 'code_1_reduce_data' };
    if (code === 100 && subcode === 33) return { kind: 'not_found_or_throttled', reason: 'code_100_33' };
    if (code === 100 && /deleted|not available/i.test(message))
      return { kind: 'gone', reason: 'code_100_deleted' };
    if (code === 1 || code === 2 || e.is_transient === true)
      return { kind: 'transient', reason: `code_${code}` };
    if ((facts.status ?? 0) >= 500) return { kind: 'transient', reason: `http_${facts.status ?? 0}` };
    return { kind: 'fatal', reason: `code_${code}` };
  }
  const status = facts.status ?? 0;
  if (status === 429) return { kind: 'throttled', reason: 'http_429' };
  if (status >= 500) return { kind: 'transient', reason: `http_${status}` };
  if (facts.unparseableBody) {
    // A 200 whose body is cut off, or a proxy's HTML page: the request itself may well succeed next time.
    return { kind: 'transient', reason: status === 200 ? 'truncated_body' : `http_${status}_not_json` };
  }
  return { kind: 'fatal', reason: `http_${status}` };
}
