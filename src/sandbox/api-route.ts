import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultKind } from './faults.js';
import { graphErrors, type GraphErrorReply } from './graph-errors.js';
import type { RouteResult } from './graph-routes.js';
import { sendError, sendJson } from './http-replies.js';
import type { RequestLogEntry } from './sandbox-options.js';
import type { SandboxState } from './sandbox-state.js';
import { requestToken, tokenLocation } from './token-routes.js';

type LogBase = Omit<RequestLogEntry, 'seq' | 'endpoint' | 'status'>;

/** A versioned API request, parsed once. */
interface ApiCall {
  state: SandboxState;
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  version: string;
  segments: string[];
  token: string;
  base: LogBase;
  /** Meta's usage headers at this request's time. */
  usage: () => Record<string, string>;
}

/**
 * `/<version>/…`: the Graph API as graph.instagram.com answers it. In order: a versioned GET (or the one POST), a
 * known token, the rate limit, an expired token, an injected fault, then the route itself.
 */
export async function apiRoute(
  state: SandboxState,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  t: number,
): Promise<void> {
  const segments = url.pathname.split('/').filter((s) => s !== '');
  const version = segments.shift() ?? '';
  const loggedQuery = new URLSearchParams(url.searchParams);
  loggedQuery.delete('access_token');
  const q = loggedQuery.toString();
  const base: LogBase = {
    t,
    tokenIn: tokenLocation(req, url),
    method: req.method ?? 'GET',
    path: `${url.pathname}${q === '' ? '' : `?${q}`}`,
    throttled: false,
    duringBlock: false,
  };
  const subscription = segments.join('/') === 'me/subscribed_apps';
  if (!/^v\d+\.\d+$/.test(version) || (req.method !== 'GET' && !(subscription && req.method === 'POST'))) {
    const reply = graphErrors.unknownPath(version);
    state.log({ ...base, endpoint: 'unknown', status: reply.status, code: reply.error.code });
    return sendError(res, reply, undefined);
  }
  state.countApiRequest();
  const call: ApiCall = {
    state,
    req,
    res,
    url,
    version,
    segments,
    token: requestToken(req, url),
    base,
    usage: () => state.usageHeaders(t),
  };
  if (refused(call)) return;
  const fault =
    state.apiRequests > (state.options.faults.startAfterRequests ?? 0) ? state.faults.draw() : undefined;
  if (fault !== undefined && failedBeforeRoute(call, fault)) return;
  if (subscription) return subscriptionRoute(call);
  return graphRoute(call, fault);
}

function reject(call: ApiCall, reply: GraphErrorReply, extra: Partial<LogBase>, usage: boolean): true {
  call.state.log({
    ...call.base,
    endpoint: 'unknown',
    status: reply.status,
    code: reply.error.code,
    ...extra,
  });
  sendError(call.res, reply, usage ? call.usage() : undefined);
  return true;
}

/** A missing or unknown token, the rate limit, or a token expired by the `tokenExpiresAfter` fault. */
function refused(call: ApiCall): boolean {
  const { state, base } = call;
  if (call.token === '') return reject(call, graphErrors.missingToken(), {}, false);
  if (!state.tokens.has(call.token)) return reject(call, graphErrors.invalidToken(), {}, false);
  const verdict = state.meter.record(base.t);
  if (verdict.duringBlock) state.stats.callsDuringBlock++;
  if (verdict.throttled) {
    state.stats.throttled++;
    const reply = graphErrors.throttled(state.options.rateLimit.errorCode);
    return reject(call, reply, { throttled: true, duringBlock: verdict.duringBlock }, true);
  }
  const expiresAfter = state.options.faults.tokenExpiresAfter;
  if (expiresAfter !== undefined && state.apiRequests > expiresAfter) {
    const end = state.options.endTimeMs;
    const reply = graphErrors.tokenExpired(new Date(end), new Date(Math.max(base.t, end)));
    return reject(call, reply, { fault: 'token_expired' }, true);
  }
  return false;
}

/** The faults that answer instead of the route: throttles, errors, a reset, an HTML page. */
function failedBeforeRoute(call: ApiCall, fault: FaultKind): boolean {
  const { state, base, res } = call;
  switch (fault) {
    case 'throttle':
      state.stats.throttled++;
      state.meter.block(base.t);
      return reject(
        call,
        graphErrors.throttled(state.options.faults.throttleCode),
        { fault, throttled: true },
        true,
      );
    case 'not_found_throttle':
      return reject(call, graphErrors.objectNotFound(call.segments[0] ?? ''), { fault }, true);
    case 'transient_500':
      return reject(call, graphErrors.transient(), { fault }, true);
    case 'reset_before_headers':
      state.log({ ...base, endpoint: 'unknown', status: 0, fault });
      call.req.socket.resetAndDestroy();
      return true;
    case 'html_502':
      state.log({ ...base, endpoint: 'unknown', status: 502, fault });
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end(
        '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>',
      );
      return true;
    default:
      return false;
  }
}

/** `POST /me/subscribed_apps?subscribed_fields=…` subscribes the app; `GET` lists the fields (GUESS: shape). */
function subscriptionRoute(call: ApiCall): void {
  const { state, base, res, url } = call;
  if (call.req.method === 'POST') {
    const fields = (url.searchParams.get('subscribed_fields') ?? '').split(',').filter((f) => f !== '');
    if (fields.length === 0) {
      const reply = graphErrors.invalidParameter('subscribed_fields is required');
      state.log({ ...base, endpoint: 'subscribed_apps', status: reply.status, code: reply.error.code });
      return sendError(res, reply, call.usage());
    }
    state.subscribedFields = [...new Set([...state.subscribedFields, ...fields])];
    state.log({ ...base, endpoint: 'subscribed_apps', status: 200 });
    return sendJson(res, 200, { success: true }, call.usage());
  }
  state.log({ ...base, endpoint: 'subscribed_apps', status: 200 });
  const data = state.subscribedFields.length === 0 ? [] : [{ subscribed_fields: state.subscribedFields }];
  sendJson(res, 200, { data }, call.usage());
}

/** The account, conversations and messages routes, with the faults that shape a successful answer. */
async function graphRoute(call: ApiCall, fault: FaultKind | undefined): Promise<void> {
  const { state, base, res } = call;
  const result: RouteResult = state.graphRoutes().route({
    version: call.version,
    segments: call.segments,
    query: call.url.searchParams,
    token: call.token,
    emptyPage: fault === 'empty_page_with_next',
  });
  const reduce = state.options.faults.reduceDataAboveLimit;
  if (reduce !== undefined && result.pageLimit !== undefined && result.pageLimit > reduce) {
    const reply = graphErrors.reduceData();
    const entry = { endpoint: result.endpoint, status: reply.status, code: reply.error.code };
    state.log({ ...base, ...entry, fault: 'reduce_data', pageLimit: result.pageLimit });
    return sendError(res, reply, call.usage());
  }
  if (result.hydrations) state.stats.hydrations.push(...result.hydrations);
  state.log({
    ...base,
    endpoint: result.endpoint,
    status: result.status,
    code: result.error?.error.code,
    fault: appliedFault(fault, result),
    pageLimit: result.pageLimit,
  });
  if (fault === 'slow') await delay(state.options.faults.slowMs);
  if (result.error) return sendError(res, result.error, call.usage());
  return writeBody(call, JSON.stringify(result.body), fault);
}

/** A successful body, whole or as a body fault shapes it: truncated, cut, or stalled half way. */
async function writeBody(call: ApiCall, body: string, fault: FaultKind | undefined): Promise<void> {
  const { res } = call;
  const json = { 'content-type': 'application/json; charset=UTF-8', ...call.usage() };
  const declared = { ...json, 'content-length': String(Buffer.byteLength(body)) };
  if (fault === 'truncated_200') {
    res.writeHead(200, json);
    res.end(body.slice(0, Math.floor(body.length / 2)));
    return;
  }
  if (fault === 'socket_destroyed') {
    res.writeHead(200, declared);
    res.write(body.slice(0, Math.floor(body.length / 3)));
    res.socket?.destroy();
    return;
  }
  if (fault === 'cut_mid_body' || fault === 'stall_after_headers') {
    res.writeHead(200, declared);
    const half = body.slice(0, Math.floor(body.length / 2));
    if (fault === 'cut_mid_body') {
      // Flushed first, so the client really receives the headers and part of the body before the cut.
      res.write(half, () => setTimeout(() => res.socket?.destroy(), 5));
      return;
    }
    res.write(half);
    await delay(call.state.options.faults.slowMs);
    if (!res.destroyed) res.end(body.slice(half.length));
    return;
  }
  res.writeHead(200, json);
  res.end(body);
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The fault that really shaped this response, for the stats. */
function appliedFault(fault: FaultKind | undefined, result: RouteResult): FaultKind | undefined {
  if (fault === 'slow') return fault;
  if (result.error) return undefined;
  if (
    fault === 'socket_destroyed' ||
    fault === 'truncated_200' ||
    fault === 'cut_mid_body' ||
    fault === 'stall_after_headers'
  )
    return fault;
  const isList =
    result.endpoint === 'conversations' ||
    result.endpoint === 'messages' ||
    result.endpoint === 'conversation';
  return fault === 'empty_page_with_next' && isList ? fault : undefined;
}
