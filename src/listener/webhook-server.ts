import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { asOutputPathError, ensureDirSync } from '../output-path.js';
import type { Logger } from '../logger.js';
import { webhookSpoolPath, WebhookSpool } from '../state/webhook-spool.js';
import { eventsOfDelivery } from './webhook-events.js';
import { sameSecret, validSignature } from './webhook-signature.js';

/**
 * The receiving end of Meta's webhooks (`ig-export listen`), meant to sit behind the user's HTTPS reverse proxy:
 * - `GET <path>?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…` answers the challenge when the verify token
 *   matches, 403 otherwise (Meta's subscription handshake);
 * - `POST <path>` with a valid `X-Hub-Signature-256` is spooled per account, durably, and only then answered 200;
 *   a missing or wrong signature gets 403 and nothing is stored; a body over `maxBodyBytes` gets 413; a spool that
 *   cannot be written gets 500, so that Meta delivers again;
 * - `GET /healthz` says it is up and how many events it stored.
 * No secret is ever logged.
 */
export interface WebhookServerOptions {
  port: number;
  host: string;
  path: string;
  stateDir: string;
  appSecret: string;
  verifyToken: string;
  maxBodyBytes: number;
  logger: Logger;
  now: () => number;
  /** Tests: runs after the events are durable and before the 200 is sent (a crash there loses nothing). */
  beforeAcknowledge?: (() => void) | undefined;
  /** Connection limits (tests shorten them); the defaults are below. */
  limits?: Partial<ConnectionLimits> | undefined;
}

export interface ConnectionLimits {
  /** The request's headers must arrive within this. */
  headersTimeoutMs: number;
  /** The whole request (headers and body) must arrive within this. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** How often the server checks the two timeouts above. */
  checkIntervalMs: number;
  maxConnections: number;
}

/** A slow or idle client cannot hold a connection for long (a slow-loris), nor can many of them. */
export const DEFAULT_LIMITS: ConnectionLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  checkIntervalMs: 1_000,
  maxConnections: 256,
};

export interface WebhookServer {
  url: string;
  /** Deliveries answered 200, and events newly stored. */
  stats: { accepted: number; refused: number; stored: number; duplicates: number };
  close(): Promise<void>;
}

class BodyTooLargeError extends Error {}

/** Deeper JSON is refused with 400 before it is parsed: parsing and storing it would overflow the stack (500 forever). */
export const MAX_JSON_DEPTH = 100;

/** The nesting depth of a JSON text (objects and arrays), counted without parsing it. */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) max = Math.max(max, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/**
 * Ids written as JSON numbers of 16 digits or more would lose digits in a double (17841400000000001 becomes
 * …000): they are read as the strings they were written as.
 */
export function bigIdsAsStrings(text: string): string {
  return text.replace(/("id"\s*:\s*)(\d{16,})(?=\s*[,}\]])/g, '$1"$2"');
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new BodyTooLargeError();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyTooLargeError();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The spool folder cannot take a delivery (read-only, not a folder, no permission): the listener refuses to start. */
export class SpoolUnusableError extends Error {
  override name = 'SpoolUnusableError';
}

/** Why the spool folder cannot take a file now, or undefined when it can. */
async function spoolProblem(dir: string): Promise<string | undefined> {
  try {
    ensureDirSync(dir);
    const probe = join(dir, `.healthz-${process.pid}-${randomUUID()}`);
    await writeFile(probe, 'ok', { flag: 'wx' });
    await rm(probe, { force: true });
    return undefined;
  } catch (e) {
    return asOutputPathError(e)?.message ?? `cannot write into ${dir}: ${(e as Error).message}`;
  }
}

/** What the request handlers of one listener share. */
interface Listener {
  options: WebhookServerOptions;
  stats: WebhookServer['stats'];
  spoolOf(accountId: string): WebhookSpool;
}

function send(res: ServerResponse, status: number, body: string, type = 'text/plain'): void {
  res.writeHead(status, { 'content-type': type });
  res.end(body);
}

/** Meta's subscription handshake: the challenge is echoed only with the right verify token. */
function handshake(l: Listener, url: URL, res: ServerResponse): void {
  const mode = url.searchParams.get('hub.mode');
  const token = url.searchParams.get('hub.verify_token') ?? '';
  const challenge = url.searchParams.get('hub.challenge') ?? '';
  if (mode === 'subscribe' && sameSecret(token, l.options.verifyToken)) {
    l.options.logger.info('webhook subscription verified');
    return send(res, 200, challenge);
  }
  l.options.logger.warn('webhook handshake refused: wrong mode or verify token');
  send(res, 403, 'forbidden');
}

/** A delivery's payload, or why it is refused (with the status to answer). */
function deliveryPayload(
  l: Listener,
  body: Buffer,
  signature: string | string[] | undefined,
): { payload: unknown } | { status: number; reason: string } {
  if (!validSignature(body, typeof signature === 'string' ? signature : undefined, l.options.appSecret))
    return {
      status: 403,
      reason:
        signature === undefined
          ? 'no X-Hub-Signature-256 header'
          : 'the signature does not match the body (wrong app secret, or altered)',
    };
  const text = body.toString('utf8');
  if (jsonDepth(text) > MAX_JSON_DEPTH)
    return { status: 400, reason: `JSON nested deeper than ${MAX_JSON_DEPTH} levels` };
  try {
    return { payload: JSON.parse(bigIdsAsStrings(text)) };
  } catch {
    return { status: 400, reason: 'the body is not JSON' };
  }
}

/** A signed delivery: its events go to each account's spool before Meta gets its 200. */
async function notification(l: Listener, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { options, stats } = l;
  let body: Buffer;
  try {
    body = await readBody(req, options.maxBodyBytes);
  } catch (e) {
    if (!(e instanceof BodyTooLargeError)) throw e;
    stats.refused++;
    options.logger.warn(`webhook delivery refused: body over ${options.maxBodyBytes} bytes`);
    res.writeHead(413, { 'content-type': 'text/plain', connection: 'close' });
    res.end('payload too large');
    req.destroy();
    return;
  }
  const delivery = deliveryPayload(l, body, req.headers['x-hub-signature-256']);
  if (!('payload' in delivery)) {
    stats.refused++;
    options.logger.warn(`webhook delivery refused: ${delivery.reason}`);
    return send(res, delivery.status, delivery.status === 403 ? 'forbidden' : 'bad request');
  }
  const now = options.now();
  let added = 0;
  let total = 0;
  for (const [accountId, events] of eventsOfDelivery(delivery.payload)) {
    added += l.spoolOf(accountId).append(events, now);
    total += events.length;
  }
  stats.stored += added;
  stats.duplicates += total - added;
  options.beforeAcknowledge?.();
  stats.accepted++;
  options.logger.info('webhook delivery stored', { events: total, new: added });
  send(res, 200, 'EVENT_RECEIVED');
}

export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  const spools = new Map<string, WebhookSpool>();
  const listener: Listener = {
    options,
    stats: { accepted: 0, refused: 0, stored: 0, duplicates: 0 },
    spoolOf(accountId) {
      let spool = spools.get(accountId);
      if (!spool) {
        spool = WebhookSpool.open(webhookSpoolPath(options.stateDir, accountId), true);
        if (!spool) throw new Error(`cannot open the spool of account ${accountId}`);
        spools.set(accountId, spool);
      }
      return spool;
    },
  };
  const { stats } = listener;
  const spoolDir = dirname(webhookSpoolPath(options.stateDir, 'probe'));
  const unusable = await spoolProblem(spoolDir);
  if (unusable !== undefined) throw new SpoolUnusableError(unusable);
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const server = createServer({ connectionsCheckingInterval: limits.checkIntervalMs }, (req, res) => {
    const url = new URL(req.url ?? '/', 'http://listener');
    const route = async (): Promise<void> => {
      if (url.pathname === '/healthz' && req.method === 'GET') {
        // Healthy means deliveries can be stored: the spool folder takes a file now.
        const problem = await spoolProblem(spoolDir);
        return problem === undefined
          ? send(res, 200, JSON.stringify({ ok: true, ...stats }), 'application/json')
          : send(res, 503, JSON.stringify({ ok: false, error: problem, ...stats }), 'application/json');
      }
      if (url.pathname !== options.path) return send(res, 404, 'not found');
      if (req.method === 'GET') return handshake(listener, url, res);
      if (req.method === 'POST') return notification(listener, req, res);
      send(res, 405, 'method not allowed');
    };
    route().catch((e: unknown) => {
      options.logger.error(
        `webhook delivery not stored: ${(e as Error).message}; Meta will deliver it again`,
      );
      if (!res.headersSent) send(res, 500, 'not stored');
      else res.destroy();
    });
  });
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxConnections = limits.maxConnections;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${options.host}:${address.port}${options.path}`,
    stats,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      for (const spool of spools.values()) spool.close();
      spools.clear();
    },
  };
}
