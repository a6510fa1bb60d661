import type { FailureFacts, GraphErrorBody } from './classify.js';
import { GraphConfigError } from './errors.js';
import { parseUsageHeaders, USAGE_HEADER_NAMES, type UsageSnapshot } from './usage-headers.js';

/** A response as it came: status, headers and body text (what `export --record` writes). */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/** One HTTP request (a GET, or the rare POST) and nothing else: no retry, no pacing. Returns the parsed body or the facts of the failure. */
export type TransportResult =
  | {
      ok: true;
      status: number;
      body: unknown;
      usage: UsageSnapshot | undefined;
      usageHeaders?: string[];
      raw?: RawResponse;
    }
  | {
      ok: false;
      facts: FailureFacts;
      usage: UsageSnapshot | undefined;
      cause?: unknown;
      usageHeaders?: string[];
      raw?: RawResponse;
    };

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
  const deadline = requestDeadline(timeoutMs, signal);
  try {
    return await send(url, token, method, signal, deadline);
  } finally {
    deadline.clear();
  }
}

/**
 * The request's own abort signal: aborted by its timeout or by the run's signal. A plain timer rather than
 * `AbortSignal.timeout` / `AbortSignal.any`, which Node holds weakly (nodejs/node#57736): the timer keeps the
 * controller alive until the request ends. What made a stalled body wait forever under garbage collection was fetch
 * no longer passing the abort on to the body (see readText); both are covered by the test that collects garbage.
 */
function requestDeadline(
  timeoutMs: number,
  signal: AbortSignal | undefined,
): { signal: AbortSignal; timedOut: () => boolean; clear: () => void } {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError'));
  }, timeoutMs);
  const cancel = (): void => controller.abort(signal?.reason);
  if (signal?.aborted) cancel();
  else signal?.addEventListener('abort', cancel, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    clear: () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', cancel);
    },
  };
}

/**
 * The body as text, given up when the deadline passes. fetch's own abort does not reach a body being read once the
 * request's internals are garbage collected (the answer then waits for the server, however long it stalls), so the
 * body is read here and its reader cancelled by the deadline.
 */
async function readText(response: Response, signal: AbortSignal): Promise<string> {
  if (!response.body) return '';
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
  const stop = (): void => void reader.cancel(signal.reason).catch(() => undefined);
  if (signal.aborted) stop();
  else signal.addEventListener('abort', stop, { once: true });
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    if (signal.aborted) throw signal.reason;
    return text + decoder.decode();
  } finally {
    signal.removeEventListener('abort', stop);
  }
}

async function send(
  url: URL,
  token: string,
  method: 'GET' | 'POST',
  signal: AbortSignal | undefined,
  deadline: ReturnType<typeof requestDeadline>,
): Promise<TransportResult> {
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      signal: deadline.signal,
      // A redirect is never followed: the Authorization header would go along to wherever it points.
      redirect: 'error',
    });
  } catch (cause) {
    signal?.throwIfAborted(); // the run was cancelled: not a network failure
    const config = configurationProblem(cause, url);
    if (config) throw new GraphConfigError(config);
    return networkFailure(cause, deadline.timedOut());
  }
  let text: string;
  try {
    text = await readText(response, deadline.signal);
  } catch (cause) {
    // A response had begun: a body cut off (`terminated`, a reset, a premature close) or stalled past the timeout
    // is a network failure like any other, retried with the transient budget, never a configuration problem.
    signal?.throwIfAborted();
    return networkFailure(cause, deadline.timedOut());
  }
  const usage = parseUsageHeaders((name) => response.headers.get(name));
  const usageHeaders = USAGE_HEADER_NAMES.filter((name) => response.headers.has(name));
  const raw: RawResponse = { status: response.status, headers: Object.fromEntries(response.headers), text };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    const contentType = response.headers.get('content-type')?.split(';')[0]?.trim() || undefined;
    return {
      ok: false,
      facts: { status: response.status, unparseableBody: true, contentType },
      usage,
      usageHeaders,
      raw,
    };
  }
  const error = (body as { error?: GraphErrorBody } | null)?.error;
  if (!response.ok || (typeof error === 'object' && error !== null)) {
    const contentType = response.headers.get('content-type')?.split(';')[0]?.trim() || undefined;
    return {
      ok: false,
      facts: { status: response.status, error, regainMinutes: usage?.regainMinutes, contentType },
      usage,
      usageHeaders,
      raw,
    };
  }
  return { ok: true, status: response.status, body, usage, usageHeaders, raw };
}

/**
 * fetch rejects before any response with a TypeError of a few known shapes when it cannot build the request at all:
 * a header value it refuses (the token), a URL it cannot parse, a port it blocks. Those are the user's to fix, and
 * retrying cannot help. Every other rejection (resets, refused connections, DNS, TLS, timeouts) is the network's.
 */
export function configurationProblem(cause: unknown, url: URL): string | undefined {
  if (!(cause instanceof TypeError)) return undefined;
  const inner = (cause as { cause?: { message?: unknown; code?: unknown } }).cause;
  if (/invalid header (value|name)/i.test(cause.message)) {
    // fetch's message quotes the bad header value (the token), so it is not repeated.
    return 'the request could not be built: the token holds characters an HTTP header cannot carry';
  }
  if (/failed to parse url/i.test(cause.message) || inner?.code === 'ERR_INVALID_URL') {
    return `the request could not be built: ${url.origin} is not a usable URL; check --base-url`;
  }
  if (inner?.message === 'bad port') {
    return `fetch refuses to connect to port ${url.port || '(default)'} (a port browsers and Node block); check --base-url`;
  }
  if (inner?.message === 'unexpected redirect') {
    return `${url.origin} answered with a redirect, which ig-export never follows (the token would go along): check --base-url`;
  }
  return undefined;
}

function networkFailure(cause: unknown, timedOut: boolean): TransportResult {
  const network = timedOut ? 'timeout' : 'connection';
  return { ok: false, facts: { network, networkCode: networkCode(cause) }, usage: undefined, cause };
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
