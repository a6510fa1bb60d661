import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSandbox, type Sandbox, type SandboxOverrides } from './create-sandbox.js';

/**
 * Several Instagram accounts behind one Graph API host, as Meta serves them: each account is a sandbox of its own
 * (its data, its token, its rate limit and throttling), and a front server routes every request to the account
 * whose token it carries. A token no account knows goes to the first one, which refuses it as Meta does (code 190).
 * `paging.next` links name the front server, so a client never leaves the host it was given.
 */
export interface SandboxFleet {
  url: string;
  accounts: Sandbox[];
  close(): Promise<void>;
}

/** The token of the n-th account (1-based) when its overrides name none. */
export const fleetToken = (n: number): string => `sandbox-token-${n}`;

function tokenOf(req: IncomingMessage): string {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7);
  return new URL(req.url ?? '/', 'http://front').searchParams.get('access_token') ?? '';
}

/**
 * Starts one sandbox per entry of `accounts` (seed n and token `sandbox-token-n` unless given, username
 * `shop<n>`) and the front server on `front.port`.
 */
export async function createSandboxFleet(
  accounts: readonly SandboxOverrides[],
  front: { port: number; host: string } = { port: 0, host: '127.0.0.1' },
): Promise<SandboxFleet> {
  if (accounts.length === 0) throw new Error('a sandbox fleet needs at least one account');
  const inner: Sandbox[] = [];
  const server = createServer((req, res) => route(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(front.port, front.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const url = `http://${front.host}:${(server.address() as AddressInfo).port}`;
  try {
    for (const [i, overrides] of accounts.entries()) {
      inner.push(
        await createSandbox({
          seed: i + 1,
          token: fleetToken(i + 1),
          username: `shop${i + 1}`,
          ...overrides,
          port: 0,
          host: '127.0.0.1',
          publicUrl: url,
        }),
      );
    }
  } catch (e) {
    await Promise.all(inner.map((s) => s.close()));
    server.close();
    throw e;
  }

  function route(req: IncomingMessage, res: ServerResponse): void {
    if (req.url === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, accounts: inner.length }));
      return;
    }
    const token = tokenOf(req);
    const target = inner.find((s) => s.tokens.has(token)) ?? inner[0];
    if (!target) {
      res.writeHead(503).end();
      return;
    }
    const upstream = request(
      `${target.url}${req.url ?? '/'}`,
      { method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        // A sandbox fault that cuts the connection reaches the client as the same cut.
        answer.on('error', () => res.destroy());
        answer.on('aborted', () => res.destroy());
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }

  return {
    url,
    accounts: inner,
    close: async () => {
      await Promise.all(inner.map((s) => s.close()));
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}
