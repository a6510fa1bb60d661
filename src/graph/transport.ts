import type { FailureFacts, GraphErrorBody } from './classify.js';
import { GraphConfigError } from './errors.js';
import { parseUsageHeaders, type UsageSnapshot } from './usage-headers.js';

/** One HTTP request (a GET, or the rare POST) and nothing else: no retry, no pacing. Returns the parsed body or the facts of the failure. */
export type TransportResult =
  | { ok: true; status: number; body: unknown; usage: UsageSnapshot | undefined }
  | { ok: false; facts: FailureFacts; usage: UsageSnapshot | undefined; cause?: unknown };

/** The seam the client sends through (as ky lets you inject `fetch`): policy tests can answer without a server. */
export type Transport = (
  url: URL,
  token: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  method?: 'GET' | 'POST',
) => Promise<TransportResult>;

export async function sendGet(
  url: URL,
  token: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  method: 'GET' | 'POST' = 'GET',
): Promise<TransportResult> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      signal: combined,
      // A redirect is never followed: the Authorization header would go along to wherever it points.
      redirect: 'error',
    });
    text = await response.text();
  } catch (cause) {
    signal?.throwIfAborted(); // the run was cancelled: not a network failure
    if (cause instanceof TypeError && cause.message !== 'fetch failed') {
      // fetch could not build the request; its message quotes the bad header value, so it is not repeated.
      throw new GraphConfigError(
        'the request could not be built: the token holds characters an HTTP header cannot carry, or --base-url is malformed',
      );
    }
    if ((cause as { cause?: { message?: unknown } }).cause?.message === 'unexpected redirect') {
      throw new GraphConfigError(
        `${url.origin} answered with a redirect, which ig-export never follows (the token would go along): check --base-url`,
      );
    }
    const network = timeout.aborted ? 'timeout' : 'connection';
    return { ok: false, facts: { network, networkCode: networkCode(cause) }, usage: undefined, cause };
  }
  const usage = parseUsageHeaders((name) => response.headers.get(name));
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, facts: { status: response.status, unparseableBody: true }, usage };
  }
  const error = (body as { error?: GraphErrorBody } | null)?.error;
  if (!response.ok || (typeof error === 'object' && error !== null)) {
    return {
      ok: false,
      facts: { status: response.status, error, regainMinutes: usage?.regainMinutes },
      usage,
    };
  }
  return { ok: true, status: response.status, body, usage };
}

/** fetch reports "fetch failed" with the system's reason one or two causes down (an AggregateError per address). */
function networkCode(cause: unknown): string | undefined {
  for (let e: unknown = cause, depth = 0; e && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'ERR_INVALID_ARG_TYPE') return code;
    const errors = (e as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.length > 0) e = errors[0];
    else e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
