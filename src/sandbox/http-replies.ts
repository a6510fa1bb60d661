import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { GraphErrorReply } from './graph-errors.js';

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
  res.end(JSON.stringify(body));
}

/** A Graph error as Meta answers it: the error object with a fresh fbtrace_id, and the OAuth challenge header. */
export function sendError(
  res: ServerResponse,
  reply: GraphErrorReply,
  headers: Record<string, string> | undefined,
): void {
  const fbtrace_id = randomBytes(8).toString('base64url');
  sendJson(
    res,
    reply.status,
    { error: { ...reply.error, fbtrace_id } },
    { 'www-authenticate': 'OAuth "Facebook Platform"', ...headers },
  );
}
