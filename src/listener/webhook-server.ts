import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
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
}

export interface WebhookServer {
  url: string;
  /** Deliveries answered 200, and events newly stored. */
  stats: { accepted: number; refused: number; stored: number; duplicates: number };
  close(): Promise<void>;
}

class BodyTooLargeError extends Error {}

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

export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  const spools = new Map<string, WebhookSpool>();
  const stats = { accepted: 0, refused: 0, stored: 0, duplicates: 0 };
  const { logger } = options;
  const spoolOf = (accountId: string): WebhookSpool => {
    let spool = spools.get(accountId);
    if (!spool) {
      spool = WebhookSpool.open(webhookSpoolPath(options.stateDir, accountId), true);
      if (!spool) throw new Error(`cannot open the spool of account ${accountId}`);
      spools.set(accountId, spool);
    }
    return spool;
  };

  const send = (res: ServerResponse, status: number, body: string, type = 'text/plain'): void => {
    res.writeHead(status, { 'content-type': type });
    res.end(body);
  };

  function handshake(url: URL, res: ServerResponse): void {
    const mode = url.searchParams.get('hub.mode');
    const token = url.searchParams.get('hub.verify_token') ?? '';
    const challenge = url.searchParams.get('hub.challenge') ?? '';
    if (mode === 'subscribe' && sameSecret(token, options.verifyToken)) {
      logger.info('webhook subscription verified');
      return send(res, 200, challenge);
    }
    logger.warn('webhook handshake refused: wrong mode or verify token');
    send(res, 403, 'forbidden');
  }

  async function notification(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body: Buffer;
    try {
      body = await readBody(req, options.maxBodyBytes);
    } catch (e) {
      if (!(e instanceof BodyTooLargeError)) throw e;
      stats.refused++;
      logger.warn(`webhook delivery refused: body over ${options.maxBodyBytes} bytes`);
      res.writeHead(413, { 'content-type': 'text/plain', connection: 'close' });
      res.end('payload too large');
      req.destroy();
      return;
    }
    const signature = req.headers['x-hub-signature-256'];
    if (!validSignature(body, typeof signature === 'string' ? signature : undefined, options.appSecret)) {
      stats.refused++;
      logger.warn(
        signature === undefined
          ? 'webhook delivery refused: no X-Hub-Signature-256 header'
          : 'webhook delivery refused: the signature does not match the body (wrong app secret, or altered)',
      );
      return send(res, 403, 'forbidden');
    }
    let payload: unknown;
    try {
      payload = JSON.parse(body.toString('utf8'));
    } catch {
      stats.refused++;
      logger.warn('webhook delivery refused: the body is not JSON');
      return send(res, 400, 'bad request');
    }
    const now = options.now();
    let added = 0;
    let total = 0;
    for (const [accountId, events] of eventsOfDelivery(payload)) {
      added += spoolOf(accountId).append(events, now);
      total += events.length;
    }
    stats.stored += added;
    stats.duplicates += total - added;
    options.beforeAcknowledge?.();
    stats.accepted++;
    logger.info('webhook delivery stored', { events: total, new: added });
    send(res, 200, 'EVENT_RECEIVED');
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://listener');
    const route = async (): Promise<void> => {
      if (url.pathname === '/healthz' && req.method === 'GET')
        return send(res, 200, JSON.stringify({ ok: true, ...stats }), 'application/json');
      if (url.pathname !== options.path) return send(res, 404, 'not found');
      if (req.method === 'GET') return handshake(url, res);
      if (req.method === 'POST') return notification(req, res);
      send(res, 405, 'method not allowed');
    };
    route().catch((e: unknown) => {
      logger.error(`webhook delivery not stored: ${(e as Error).message}; Meta will deliver it again`);
      if (!res.headersSent) send(res, 500, 'not stored');
      else res.destroy();
    });
  });
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
