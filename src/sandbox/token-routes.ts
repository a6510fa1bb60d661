import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { graphErrors, type GraphErrorReply } from './graph-errors.js';
import { sendError, sendJson } from './http-replies.js';
import type { RequestLogEntry } from './sandbox-options.js';
import type { SandboxState } from './sandbox-state.js';

/** The access token of a request: `Authorization: Bearer …` first, else the `access_token` query parameter. */
export function requestToken(req: IncomingMessage, url: URL): string {
  const auth = req.headers.authorization;
  return auth?.startsWith('Bearer ') ? auth.slice(7) : (url.searchParams.get('access_token') ?? '');
}

/** Where the client put the access token (the stats keep it, to prove no token travels in a URL). */
export function tokenLocation(req: IncomingMessage, url: URL): RequestLogEntry['tokenIn'] {
  if (req.headers.authorization) return 'header';
  return url.searchParams.has('access_token') ? 'query' : 'none';
}

/**
 * `GET /refresh_access_token?grant_type=ig_refresh_token` (unversioned, Meta's Instagram token refresh): a token at
 * least 24 hours old gets a new one valid 60 days. The old one stays valid (GUESS). A too-young token answers
 * code 100 (GUESS: Meta's exact answer is not documented).
 */
export function refreshRoute(
  state: SandboxState,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  t: number,
): void {
  const token = requestToken(req, url);
  const base = {
    t,
    method: req.method ?? 'GET',
    path: url.pathname,
    endpoint: 'refresh' as const,
    throttled: false,
    duringBlock: false,
    tokenIn: tokenLocation(req, url),
  };
  const issued = state.tokens.get(token);
  let reply: GraphErrorReply | undefined;
  if (url.searchParams.get('grant_type') !== 'ig_refresh_token')
    reply = graphErrors.invalidParameter('grant_type must be ig_refresh_token');
  else if (issued === undefined) reply = graphErrors.invalidToken();
  else if (t - issued < 24 * 3_600_000)
    reply = graphErrors.invalidParameter('The access token must be at least 24 hours old to be refreshed');
  if (reply) {
    state.log({ ...base, status: reply.status, code: reply.error.code });
    return sendError(res, reply, undefined);
  }
  const fresh = `${state.options.token}-refreshed-${state.tokens.size}-${randomBytes(6).toString('hex')}`;
  state.tokens.set(fresh, t);
  state.log({ ...base, status: 200 });
  sendJson(res, 200, { access_token: fresh, token_type: 'bearer', expires_in: 60 * 86_400 });
}
