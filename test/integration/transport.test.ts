import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphConfigError } from '../../src/graph/errors.js';
import { configurationProblem, sendGet } from '../../src/graph/transport.js';
import { REPO_ROOT } from '../helpers/run-cli.js';

/** A server whose answers fail in the ways a network does, by path. */
let server: Server;
let base: string;
const BODY = JSON.stringify({ data: Array.from({ length: 500 }, (_, i) => ({ id: `m${i}` })) });

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/cut') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(BODY.length) });
      res.write(BODY.slice(0, BODY.length / 2), () => setTimeout(() => res.socket?.destroy(), 5));
    } else if (req.url === '/reset') {
      req.socket.resetAndDestroy();
    } else if (req.url === '/stall') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"data": [');
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(BODY);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe('sendGet: a failing network is a network failure, never a configuration error', () => {
  it('a body cut off after the headers is a connection failure (fetch: TypeError terminated)', async () => {
    const r = await sendGet(new URL(`${base}/cut`), 'token', 5_000, undefined);
    expect(r).toMatchObject({ ok: false, facts: { network: 'connection', networkCode: 'UND_ERR_SOCKET' } });
  });

  it('a reset before the headers is a connection failure', async () => {
    const r = await sendGet(new URL(`${base}/reset`), 'token', 5_000, undefined);
    expect(r).toMatchObject({ ok: false, facts: { network: 'connection', networkCode: 'ECONNRESET' } });
  });

  it('headers then a stalled body past the timeout is a timeout', async () => {
    const r = await sendGet(new URL(`${base}/stall`), 'token', 300, undefined);
    expect(r).toMatchObject({ ok: false, facts: { network: 'timeout' } });
  });

  it('a stalled body times out even when garbage collections run during the request (nodejs/node#57736)', async () => {
    // Under memory pressure fetch's own abort stopped reaching the body: the request then waited for the server.
    const script = join(await mkdtemp(join(tmpdir(), 'ig-gc-')), 'stall.mjs');
    await writeFile(
      script,
      `const { sendGet } = await import(${JSON.stringify(pathToFileURL(join(REPO_ROOT, 'dist/src/graph/transport.js')).href)});
       const gc = setInterval(() => globalThis.gc(), 5);
       const results = await Promise.all([1, 2, 3, 4].map(() => sendGet(new URL(process.argv[2]), 'token', 300, undefined)));
       clearInterval(gc);
       console.log(JSON.stringify(results.map((r) => (r.ok ? 'ok' : r.facts.network))));`,
    );
    const child = spawn(process.execPath, ['--expose-gc', script, `${base}/stall`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise((resolve) => child.on('close', resolve));
    expect(JSON.parse(out)).toEqual(['timeout', 'timeout', 'timeout', 'timeout']);
  });

  it('a token an HTTP header cannot carry is a configuration error that does not quote the token', async () => {
    const error = await sendGet(new URL(`${base}/ok`), 'secret\nvalue', 5_000, undefined).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GraphConfigError);
    expect((error as Error).message).not.toContain('secret');
  });

  it('a port fetch blocks names --base-url', async () => {
    const error = await sendGet(new URL('http://127.0.0.1:9/v23.0/me'), 'token', 5_000, undefined).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GraphConfigError);
    expect((error as Error).message).toMatch(/port 9.*--base-url/);
  });
});

describe('configurationProblem, shape by shape', () => {
  const url = new URL('https://graph.instagram.com/v23.0/me');
  it.each([
    [
      new TypeError('fetch failed', {
        cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
      }),
    ],
    [
      new TypeError('terminated', {
        cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
      }),
    ],
    [new TypeError('fetch failed', { cause: new Error('Headers Timeout Error') })],
    [new DOMException('The operation was aborted due to timeout', 'TimeoutError')],
    [new Error('premature close')],
  ])('%s is not a configuration problem', (cause) => {
    expect(configurationProblem(cause, url)).toBeUndefined();
  });

  it('bad header values, unparseable URLs and redirects are', () => {
    expect(
      configurationProblem(new TypeError('Headers.append: "x" is an invalid header value.'), url),
    ).toMatch(/token/);
    expect(
      configurationProblem(
        new TypeError('Failed to parse URL from x', { cause: { code: 'ERR_INVALID_URL' } }),
        url,
      ),
    ).toMatch(/--base-url/);
    expect(
      configurationProblem(new TypeError('fetch failed', { cause: new Error('unexpected redirect') }), url),
    ).toMatch(/redirect.*--base-url/);
  });
});
