import { getEventListeners } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { GraphClient, type GraphClientOptions } from '../../src/graph/client.js';
import { ConversationsApi } from '../../src/graph/conversations-api.js';
import {
  GraphAuthError,
  GraphConfigError,
  GraphPagingError,
  GraphRequestError,
  NotGraphApiError,
} from '../../src/graph/errors.js';
import { silentLogger } from '../../src/logger.js';
import { freePort } from '../helpers/free-port.js';
import { testClientOptions } from '../helpers/client-options.js';
import { startSandbox } from '../helpers/sandbox-fixture.js';
import { VirtualClock } from '../helpers/virtual-clock.js';

function client(baseUrl: string, overrides: Partial<GraphClientOptions> = {}): GraphClient {
  return new GraphClient(testClientOptions(baseUrl, overrides));
}

/** Every item of a paged list; each page but the last must promise more. */
async function collect(pages: AsyncIterable<{ items: unknown[]; more: boolean }>): Promise<unknown[]> {
  const all: unknown[] = [];
  const more: boolean[] = [];
  for await (const page of pages) {
    all.push(...page.items);
    more.push(page.more);
  }
  expect(more).toEqual([...more.slice(0, -1).map(() => true), false]);
  return all;
}

/** A bare HTTP server answering every request with `reply(path)`: for paging shapes the sandbox never produces. */
async function scriptedServer(
  reply: (path: string, base: string) => unknown,
  status = 200,
  headers: (n: number) => Record<string, string> = () => ({}),
): Promise<{ url: string; paths: string[] }> {
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push(req.url ?? '');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    res.writeHead(status, { 'content-type': 'application/json', ...headers(paths.length) });
    res.end(JSON.stringify(reply(req.url ?? '', base)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onTestFinished(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, paths };
}

describe('GraphClient over HTTP', () => {
  it('never follows a redirect (the token would go along) and does not retry it', async () => {
    const { url, paths } = await scriptedServer(
      () => ({}),
      302,
      () => ({ location: 'http://127.0.0.1:9/steal' }),
    );
    const api = new ConversationsApi(client(url), 100);
    const error = await api.resolveAccount('me').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GraphConfigError);
    expect((error as Error).message).toMatch(/answered with a redirect, which ig-export never follows/);
    expect(paths).toHaveLength(1);
  });

  it('a token no header can carry is a configuration error that never quotes it, with no request made', async () => {
    const { url, paths } = await scriptedServer(() => ({ user_id: '1' }));
    const secret = 'IGAAsecret\nInjected: 1';
    const error = await new ConversationsApi(client(url, { token: secret }), 100)
      .resolveAccount('me')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GraphConfigError);
    expect((error as Error).message).not.toContain('IGAAsecret');
    expect(paths).toHaveLength(0);
  });

  it('sends the token only in the Authorization header, also when following next links that embed it', async () => {
    const sandbox = await startSandbox({ conversations: 130, defaultLimit: 25 });
    const api = new ConversationsApi(client(sandbox.url), 50);
    const items = await collect(api.conversations('me'));
    expect(items).toHaveLength(130);
    expect(sandbox.stats.requests.map((r) => r.tokenIn)).toEqual(['header', 'header', 'header']);
    expect(sandbox.stats.requests.map((r) => r.pageLimit)).toEqual([50, 50, 50]);
  });

  it('resolves the account to user_id (the id in from/to), not the app-scoped id', async () => {
    const sandbox = await startSandbox({ conversations: 1 });
    const account = await new ConversationsApi(client(sandbox.url), 100).resolveAccount('me');
    expect(account.id).toBe(sandbox.data.account.userId);
    expect(account.id).not.toBe(sandbox.data.account.appScopedId);
  });

  it('follows empty pages that still have next, to the end', async () => {
    const sandbox = await startSandbox({
      seed: 4,
      conversations: 260,
      faults: { rates: { empty_page_with_next: 0.5 } },
    });
    const items = await collect(new ConversationsApi(client(sandbox.url), 25).conversations('me'));
    expect((items as Array<{ id: string }>).map((c) => c.id)).toEqual(
      sandbox.data.conversations.map((c) => c.id),
    );
    expect(sandbox.stats.faults['empty_page_with_next']).toBeGreaterThan(0);
  });

  it('stops with an error when a cursor repeats instead of looping', async () => {
    const { url, paths } = await scriptedServer((_path, base) => ({
      data: [{ id: '1', updated_time: '2024-01-01T00:00:00+0000' }],
      paging: {
        cursors: { after: 'SAME' },
        next: `${base}/v23.0/me/conversations?access_token=x&after=SAME`,
      },
    }));
    const pages = new ConversationsApi(client(url), 100).conversations('me');
    await expect(collect(pages)).rejects.toThrow(GraphPagingError);
    expect(paths.length).toBe(2);
  });

  it('refuses to send the token to a next link on another host', async () => {
    const { url, paths } = await scriptedServer(() => ({
      data: [],
      paging: { next: 'https://evil.example/v23.0/me/conversations?after=A' },
    }));
    await expect(collect(new ConversationsApi(client(url), 100).conversations('me'))).rejects.toThrow(
      /refusing to follow/,
    );
    expect(paths.length).toBe(1);
  });

  it('a wrong token fails at once as an auth error that says what to do and does not echo the token', async () => {
    const sandbox = await startSandbox({ conversations: 1 });
    const wrong = 'IGAAwrong-token-value-123456';
    const api = new ConversationsApi(client(sandbox.url, { token: wrong }), 100);
    const error = await api.resolveAccount('me').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GraphAuthError);
    expect((error as Error).message).toMatch(/IG_ACCESS_TOKEN/);
    expect((error as Error).message).not.toContain(wrong);
    expect(sandbox.stats.requests).toHaveLength(1); // auth errors are never retried
  });

  it('halves the page size on "reduce the amount of data" and keeps going', async () => {
    const sandbox = await startSandbox({ conversations: 90, faults: { reduceDataAboveLimit: 30 } });
    const c = client(sandbox.url);
    const items = await collect(new ConversationsApi(c, 100).conversations('me'));
    expect(items).toHaveLength(90);
    expect(sandbox.stats.requests.map((r) => r.pageLimit)).toEqual([100, 50, 25, 25, 25, 25]);
    expect(c.metrics.failures).toEqual({ code_1_reduce_data: 2 });
  });

  it('retries a persistent 100/33 a bounded number of times, then reports the message unavailable', async () => {
    const { url, paths } = await scriptedServer(
      () => ({
        error: {
          message: "Unsupported get request. Object with ID 'm1' does not exist",
          type: 'IGApiException',
          code: 100,
          error_subcode: 33,
        },
      }),
      400,
    );
    const clock = new VirtualClock();
    const outcome = await new ConversationsApi(client(url, { notFoundRetries: 2, clock }), 100).message('m1');
    expect(outcome.status).toBe('unavailable');
    expect(paths).toHaveLength(3);
    expect(clock.sleeps.filter((ms) => ms > 0)).toEqual([100, 150]); // backoff with jitter (random() = 0.5) between the tries
  });

  it('pauses the account when a successful reply announces a block in its usage headers', async () => {
    const clock = new VirtualClock(0);
    const { url } = await scriptedServer(
      () => ({ id: '1', user_id: '17841400000000001' }),
      200,
      (n) => ({
        'x-business-use-case-usage': JSON.stringify({
          '17841400000000001': [
            { type: 'instagram', call_count: 99, estimated_time_to_regain_access: n === 1 ? 2 : 0 },
          ],
        }),
      }),
    );
    const c = client(url, { clock, maxRps: 2 });
    await c.get('account', c.url('me'));
    const before = clock.now();
    await c.get('account', c.url('me'));
    expect(clock.now() - before).toBeGreaterThanOrEqual(120_000);
    expect(c.metrics.throttleWaitMs).toBe(120_000);
  });

  it('a first call answered by a web page, not the Graph API, is tried twice and names --base-url', async () => {
    const paths: string[] = [];
    const server = createServer((req, res) => {
      paths.push(req.url ?? '');
      res.writeHead(404, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<html><body><h1>Not Found</h1></body></html>');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    onTestFinished(() => new Promise<void>((r) => server.close(() => r())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const error = await new ConversationsApi(client(url), 100).resolveAccount('me').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotGraphApiError);
    expect((error as Error).message).toBe(
      `--base-url ${url} answered HTTP 404 text/html to GET /v23.0/me: it is not a Graph API; the default is https://graph.instagram.com`,
    );
    expect(paths).toHaveLength(2);
  });

  it('a 404 without a Graph error body is not the Graph API either; a Graph error at 404 is', async () => {
    const plain = await scriptedServer(() => ({ message: 'no route' }), 404);
    const error = await new ConversationsApi(client(plain.url), 100)
      .resolveAccount('me')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotGraphApiError);
    expect(plain.paths).toHaveLength(2);
    const graph = await scriptedServer(
      () => ({ error: { code: 190, message: 'Invalid OAuth access token' } }),
      404,
    );
    const auth = await new ConversationsApi(client(graph.url), 100)
      .resolveAccount('me')
      .catch((e: unknown) => e);
    expect(auth).toBeInstanceOf(GraphAuthError);
  });

  it('while the host has never answered, each retry is one warning with its wait, its count and the cause', async () => {
    const port = await freePort();
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (m: string) => warnings.push(m) };
    const api = new ConversationsApi(client(`http://127.0.0.1:${port}`, { logger }), 100);
    const error = await api.resolveAccount('me').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GraphRequestError);
    expect(warnings).toEqual([
      `retrying in 100 ms (1/3): ECONNREFUSED 127.0.0.1:${port}`,
      `retrying in 150 ms (2/3): ECONNREFUSED 127.0.0.1:${port}`,
      `retrying in 300 ms (3/3): ECONNREFUSED 127.0.0.1:${port}`,
    ]);
  });

  it("gives the caller's stop signal one listener however many requests are in flight (no MaxListenersExceededWarning)", async () => {
    const { url } = await scriptedServer(() => ({ data: [] }));
    const caller = new AbortController();
    const warnings: string[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w.name);
    };
    process.on('warning', onWarning);
    onTestFinished(() => {
      process.off('warning', onWarning);
    });
    const c = client(url, { signal: caller.signal });
    const listening: number[] = [];
    await Promise.all(
      Array.from({ length: 25 }, async (_, i) => {
        const body = c.get('conversations', c.url('me/conversations', { n: String(i) }));
        listening.push(getEventListeners(caller.signal, 'abort').length);
        await body;
      }),
    );
    // Warnings are emitted on the next tick.
    await new Promise((r) => setImmediate(r));
    expect(Math.max(...listening)).toBeLessThanOrEqual(1);
    expect(warnings).not.toContain('MaxListenersExceededWarning');
  });
});
