import { createHmac } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MAX_JSON_DEPTH,
  SpoolUnusableError,
  startWebhookServer,
  type ConnectionLimits,
  type WebhookServer,
} from '../../src/listener/webhook-server.js';
import type { Logger } from '../../src/logger.js';
import { WebhookSender } from '../../src/sandbox/webhook-sender.js';
import { webhookSpoolPath, WebhookSpool } from '../../src/state/webhook-spool.js';

const SECRET = 'app-secret-5f1e9c0b7a';
const VERIFY = 'verify-token-2d8e4a';
const ACCOUNT = '17841400000000001';

/** The sandbox's retry waits, without waiting. */
const noWait = (): Promise<void> => Promise.resolve();

const sign = (body: string, secret = SECRET): string =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

function delivery(...messaging: Array<Record<string, unknown>>): string {
  return JSON.stringify({
    object: 'instagram',
    entry: [{ id: ACCOUNT, time: 1_795_000_000_000, messaging }],
  });
}

const message = (mid: string, text: string, t = 1_795_000_000_000): Record<string, unknown> => ({
  sender: { id: '6521113831237472' },
  recipient: { id: ACCOUNT },
  timestamp: t,
  message: { mid, text },
});

let server: WebhookServer | undefined;
let stateDir = '';
const lines: string[] = [];
const logger: Logger = {
  debug: (m, f) => lines.push(`${m} ${JSON.stringify(f ?? {})}`),
  info: (m, f) => lines.push(`${m} ${JSON.stringify(f ?? {})}`),
  warn: (m, f) => lines.push(`${m} ${JSON.stringify(f ?? {})}`),
  error: (m, f) => lines.push(`${m} ${JSON.stringify(f ?? {})}`),
};

async function start(
  beforeAcknowledge?: () => void,
  limits?: Partial<ConnectionLimits>,
): Promise<WebhookServer> {
  stateDir = await mkdtemp(join(tmpdir(), 'ig-export-listen-'));
  server = await startWebhookServer({
    port: 0,
    host: '127.0.0.1',
    path: '/webhook',
    stateDir,
    appSecret: SECRET,
    verifyToken: VERIFY,
    maxBodyBytes: 4096,
    logger,
    now: () => 1_795_000_100_000,
    beforeAcknowledge,
    limits,
  });
  return server;
}

function stored(): ReturnType<WebhookSpool['all']> {
  const spool = WebhookSpool.open(webhookSpoolPath(stateDir, ACCOUNT), false);
  if (!spool) return [];
  try {
    return spool.all();
  } finally {
    spool.close();
  }
}

const post = (url: string, body: string, signature?: string): Promise<Response> =>
  fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(signature ? { 'x-hub-signature-256': signature } : {}),
    },
    body,
  });

afterEach(async () => {
  await server?.close();
  server = undefined;
  await rm(stateDir, { recursive: true, force: true });
  lines.length = 0;
});

describe('ig-export listen: the webhook receiver', () => {
  it('answers the subscription handshake only with the right verify token', async () => {
    const s = await start();
    const ok = await fetch(`${s.url}?hub.mode=subscribe&hub.verify_token=${VERIFY}&hub.challenge=1158201444`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('1158201444');
    const wrong = await fetch(`${s.url}?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1`);
    expect(wrong.status).toBe(403);
    const mode = await fetch(`${s.url}?hub.mode=unsubscribe&hub.verify_token=${VERIFY}&hub.challenge=1`);
    expect(mode.status).toBe(403);
    const health = await fetch(s.url.replace('/webhook', '/healthz'));
    expect(health.status).toBe(200);
  });

  it('stores a correctly signed delivery, and refuses missing, invalid, wrong-secret and altered ones, storing nothing', async () => {
    const s = await start();
    const body = delivery(message('mid-1', 'hello'));
    expect((await post(s.url, body)).status).toBe(403);
    expect((await post(s.url, body, 'sha256=nothex')).status).toBe(403);
    expect((await post(s.url, body, sign(body, 'another-app-secret'))).status).toBe(403);
    const altered = body.replace('hello', 'hullo');
    expect((await post(s.url, altered, sign(body))).status).toBe(403);
    expect(stored()).toEqual([]);
    expect((await post(s.url, body, sign(body).toUpperCase().replace('SHA256=', 'sha256='))).status).toBe(
      200,
    );
    const events = stored();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'message', mid: 'mid-1', text: 'hello', accountId: ACCOUNT });
    expect(s.stats).toMatchObject({ accepted: 1, refused: 4, stored: 1 });
    for (const l of lines) {
      expect(l).not.toContain(SECRET);
      expect(l).not.toContain(VERIFY);
    }
  });

  it('stores duplicates once, takes deliveries in any order, keeps unknown events raw, and refuses oversize bodies', async () => {
    const s = await start();
    const late = delivery(message('mid-2', 'second', 1_795_000_002_000));
    const early = delivery(message('mid-1', 'first', 1_795_000_001_000));
    const edit = delivery({
      sender: { id: '6521113831237472' },
      recipient: { id: ACCOUNT },
      timestamp: 1_795_000_003_000,
      message_edit: { mid: 'mid-1', text: 'first, edited', num_edit: 1 },
    });
    const unsend = delivery({
      sender: { id: '6521113831237472' },
      recipient: { id: ACCOUNT },
      timestamp: 1_795_000_004_000,
      message: { mid: 'mid-2', is_deleted: true },
    });
    const odd = delivery({
      sender: { id: '1' },
      recipient: { id: ACCOUNT },
      timestamp: 1,
      optin: { ref: 'x' },
    });
    for (const body of [late, early, late, edit, unsend, edit, odd])
      expect((await post(s.url, body, sign(body))).status).toBe(200);
    const events = stored();
    expect(events.map((e) => e.key).sort()).toEqual(
      [
        'edit:mid-1:1',
        'message:mid-1',
        'message:mid-2',
        'unsend:mid-2',
        events.find((e) => e.type === 'unknown')?.key,
      ].sort(),
    );
    expect(events.find((e) => e.type === 'unknown')?.raw).toContain('optin');
    expect(s.stats.duplicates).toBe(2);

    const big = delivery(message('mid-3', 'x'.repeat(5000)));
    expect((await post(s.url, big, sign(big))).status).toBe(413);
    expect(stored().some((e) => e.mid === 'mid-3')).toBe(false);
  });

  it('a crash between the append and the acknowledgement loses nothing: the redelivery is stored once', async () => {
    let crash = true;
    const s = await start(() => {
      if (crash) {
        crash = false;
        throw new Error('simulated crash before the 200');
      }
    });
    const body = delivery(message('mid-9', 'kept'));
    expect((await post(s.url, body, sign(body))).status).toBe(500);
    // Durable although not acknowledged; Meta delivers it again.
    expect(stored().map((e) => e.mid)).toEqual(['mid-9']);
    expect((await post(s.url, body, sign(body))).status).toBe(200);
    expect(stored().map((e) => e.mid)).toEqual(['mid-9']);
  });

  it('the sandbox delivers as Meta does: signed, retried while the receiver fails, sometimes twice; stored once', async () => {
    let failures = 2;
    const s = await start(() => {
      if (failures-- > 0) throw new Error('receiver down');
    });
    const sender = new WebhookSender(
      { url: s.url, appSecret: SECRET, retries: 4, retryDelayMs: 1, duplicateRate: 0, mid: 'graph-id' },
      1,
      noWait,
    );
    sender.messagesAdded(ACCOUNT, [
      {
        id: 'mid-r',
        createdMs: 1_795_000_000_000,
        from: { id: '6521' },
        to: { id: ACCOUNT },
        text: 'retried',
        isEcho: false,
      },
    ]);
    await sender.flush();
    expect(sender.deliveries).toEqual([
      expect.objectContaining({ attempts: 3, status: 200, delivered: true }),
    ]);
    expect(stored().map((e) => [e.mid, e.text])).toEqual([['mid-r', 'retried']]);

    const wrong = new WebhookSender(
      {
        url: s.url,
        appSecret: 'not-the-app-secret',
        retries: 1,
        retryDelayMs: 1,
        duplicateRate: 0,
        mid: 'graph-id',
      },
      1,
      noWait,
    );
    wrong.messagesAdded(ACCOUNT, [
      { id: 'mid-w', createdMs: 1, from: { id: '6521' }, to: { id: ACCOUNT }, text: 'forged', isEcho: false },
    ]);
    await wrong.flush();
    expect(wrong.deliveries[0]).toMatchObject({ attempts: 2, status: 403, delivered: false });
    expect(stored().map((e) => e.mid)).toEqual(['mid-r']);
  });

  it('refuses JSON nested deeper than the limit with 400, and stores what is just within it', async () => {
    const s = await start();
    const nest = (n: number): unknown => (n === 0 ? 'leaf' : { a: nest(n - 1) });
    const deep = JSON.stringify({
      ...JSON.parse(delivery(message('m_deep', 'x'))),
      extra: nest(MAX_JSON_DEPTH + 50),
    });
    expect((await post(s.url, deep, sign(deep))).status).toBe(400);
    const within = delivery({ ...message('m_ok', 'ok'), extra: nest(MAX_JSON_DEPTH - 10) });
    expect((await post(s.url, within, sign(within))).status).toBe(200);
    expect(stored().map((e) => e.mid)).toEqual(['m_ok']);
  });

  it('an account id sent as a number beyond 2^53 is kept exactly', async () => {
    const s = await start();
    const body = delivery(message('m_big', 'big')).replace(`"id":"${ACCOUNT}"`, `"id":${ACCOUNT}`);
    expect(body).toContain(`"id":${ACCOUNT},`);
    expect((await post(s.url, body, sign(body))).status).toBe(200);
    expect(stored().map((e) => e.mid)).toEqual(['m_big']); // spooled under 17841400000000001, not …000
  });

  it('healthz says 503 once the spool cannot be written; a spool folder unusable at start refuses to start', async () => {
    const s = await start();
    const health = s.url.replace('/webhook', '/healthz');
    expect((await fetch(health)).status).toBe(200);
    await rm(join(stateDir, 'webhooks'), { recursive: true, force: true });
    await writeFile(join(stateDir, 'webhooks'), 'a file where the spool folder goes');
    const sick = await fetch(health);
    expect(sick.status).toBe(503);
    expect(((await sick.json()) as { ok: boolean }).ok).toBe(false);
    await expect(
      startWebhookServer({
        port: 0,
        host: '127.0.0.1',
        path: '/webhook',
        stateDir,
        appSecret: SECRET,
        verifyToken: VERIFY,
        maxBodyBytes: 4096,
        logger,
        now: () => 0,
      }),
    ).rejects.toThrow(SpoolUnusableError);
  });

  it('closes a connection whose headers never finish (a slow-loris), within the header limit', async () => {
    const s = await start(undefined, { headersTimeoutMs: 300, requestTimeoutMs: 600, checkIntervalMs: 50 });
    const { port } = new URL(s.url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write('POST /webhook HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    const closedAfter = await new Promise<number>((resolve) => {
      const t0 = Date.now();
      socket.on('data', () => undefined);
      socket.once('close', () => resolve(Date.now() - t0));
    });
    expect(closedAfter).toBeLessThan(5_000); // Node's default would keep it for 60 s
  });
});
