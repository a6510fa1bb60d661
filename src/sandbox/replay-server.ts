import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/**
 * `ig-export sandbox --replay <dir>`: serves a recording made by `export --record` back, so that what a real account
 * answered becomes a test. The recording format is read here on its own (the sandbox shares no code with the
 * client): one exchange a line, `{seq, method, path, query, status, headers, body}` or `{…, network}` when no
 * complete response came.
 *
 * Requests are matched by method, path and query (parameters in any order, any access token ignored); the answers
 * recorded for one request are given in their recorded order, and the last one again when they run out (a retry
 * the recording did not need). `{{ORIGIN}}` in a body becomes this server's address. A network failure is replayed
 * as a connection reset; a request the recording has no answer for gets a Graph error (code 100) and is counted.
 */
interface Exchange {
  seq: number;
  method: string;
  path: string;
  query: string;
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  network?: string;
}

export interface ReplayServer {
  url: string;
  /** Exchanges in the recording. */
  exchanges: number;
  /** Requests answered from the recording, and those it had no answer for. */
  served: number;
  misses: string[];
  close(): Promise<void>;
}

const RECORDING_FILE = 'exchanges.ndjson';
const ORIGIN = '{{ORIGIN}}';

function key(method: string, path: string, query: URLSearchParams): string {
  const params = [...query.entries()]
    .filter(([k]) => k !== 'access_token')
    .sort(([a], [b]) => a.localeCompare(b));
  return `${method} ${path}?${new URLSearchParams(params).toString()}`;
}

export class ReplayFormatError extends Error {
  override name = 'ReplayFormatError';
}

export function loadRecording(dir: string): Exchange[] {
  const file = join(dir, RECORDING_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ReplayFormatError(
      `--replay ${dir}: no recording there (${(e as NodeJS.ErrnoException).code ?? 'unreadable'} ${file}); make one with export --record`,
    );
  }
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line, i) => {
      try {
        const e = JSON.parse(line) as Exchange;
        if (typeof e.method !== 'string' || typeof e.path !== 'string' || typeof e.query !== 'string')
          throw new Error();
        return e;
      } catch {
        throw new ReplayFormatError(`--replay ${file}: line ${i + 1} is not a recorded exchange`);
      }
    });
}

export async function createReplayServer(
  dir: string,
  options: { port?: number; host?: string } = {},
): Promise<ReplayServer> {
  const recorded = loadRecording(dir);
  const queues = new Map<string, Exchange[]>();
  for (const e of [...recorded].sort((a, b) => a.seq - b.seq)) {
    const k = key(e.method, e.path, new URLSearchParams(e.query));
    queues.set(k, [...(queues.get(k) ?? []), e]);
  }
  const state = { served: 0, misses: [] as string[] };
  const host = options.host ?? '127.0.0.1';
  let origin = '';

  const answer = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://replay');
    if (url.pathname === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
      return;
    }
    const k = key(req.method ?? 'GET', url.pathname, url.searchParams);
    const queue = queues.get(k);
    const exchange = queue && queue.length > 1 ? queue.shift() : queue?.[0];
    if (exchange === undefined) {
      state.misses.push(k);
      res.writeHead(400, { 'content-type': 'application/json; charset=UTF-8' });
      res.end(
        JSON.stringify({
          error: {
            message: `(#100) the recording has no answer for ${k}`,
            type: 'IGApiException',
            code: 100,
          },
        }),
      );
      return;
    }
    state.served++;
    if (exchange.network !== undefined || exchange.status === undefined) {
      req.socket.resetAndDestroy();
      return;
    }
    res.writeHead(exchange.status, exchange.headers ?? {});
    res.end((exchange.body ?? '').split(ORIGIN).join(origin));
  };

  const server = createServer(answer);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  origin = `http://${host}:${(server.address() as AddressInfo).port}`;
  return {
    url: origin,
    exchanges: recorded.length,
    get served() {
      return state.served;
    },
    misses: state.misses,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
