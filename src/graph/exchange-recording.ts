import { createHmac } from 'node:crypto';
import { appendFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDirSync } from '../output-path.js';
import { stripAccessToken } from './redact.js';
import type { Transport, TransportResult } from './transport.js';

/**
 * `export --record <dir>`: every request and response of a run as NDJSON (`exchanges.ndjson`, one exchange a line),
 * so that a real account's behaviour can be attached to a bug report and replayed (`ig-export sandbox --replay`).
 *
 * What is written: method, path, query without any access token, the status, the headers that matter, and the body
 * as the server sent it, with every URL's token removed and the host replaced by `{{ORIGIN}}` (the replaying server
 * puts its own there). With a redaction key, message text, names, usernames and links are replaced by keyed hashes
 * (the same value, the same hash), so the recording keeps its shape and its paging but none of the content.
 */
export interface RecordedExchange {
  seq: number;
  method: string;
  path: string;
  /** The query as sent, without `access_token`. */
  query: string;
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  /** No complete response: the connection failed or the request timed out. */
  network?: 'connection' | 'timeout';
  networkCode?: string;
}

export const RECORDING_FILE = 'exchanges.ndjson';
export const ORIGIN_PLACEHOLDER = '{{ORIGIN}}';
const KEPT_HEADERS = [
  'content-type',
  'retry-after',
  'www-authenticate',
  'x-app-usage',
  'x-ad-account-usage',
  'x-business-use-case-usage',
];
/** Keys whose string values are content: text, people's names, links (paging links are kept: replay needs them). */
const CONTENT_KEY = /^(message|text|name|username|title|link|url|.*_url|share_text)$/;

export interface ExchangeRecorder {
  readonly file: string;
  /** Wraps a transport so that every exchange through it is written. */
  wrap(inner: Transport): Transport;
}

/**
 * Starts a recording in `dir` (created when missing; refused when it already holds one). `origin` is the Graph host
 * (replaced by a placeholder); `redactKey` turns content into keyed hashes.
 */
export function startRecording(dir: string, origin: string, redactKey?: string): ExchangeRecorder {
  // One level at a time: a recursive mkdir never returns under /proc (see output-path.ts).
  ensureDirSync(dir);
  if (readdirSync(dir).includes(RECORDING_FILE))
    throw new RecordingExistsError(`--record ${dir} already holds a recording; choose an empty folder`);
  const file = join(dir, RECORDING_FILE);
  // `wx`: a new file, never one a link points at.
  writeFileSync(file, '', { flag: 'wx', mode: 0o600 });
  let seq = 0;
  const clean = (text: string, token: string): string => cleanBody(text, token, origin, redactKey);
  return {
    file,
    wrap:
      (inner) =>
      async (url, token, timeoutMs, signal, method = 'GET') => {
        const result = await inner(url, token, timeoutMs, signal, method);
        const sent = stripAccessToken(url);
        const exchange: RecordedExchange = {
          seq: seq++,
          method,
          path: sent.pathname,
          query: sent.searchParams.toString(),
          ...describeResult(result, (text) => clean(text, token)),
        };
        appendFileSync(file, `${JSON.stringify(exchange)}\n`);
        return result;
      },
  };
}

/** The recording folder already has a recording (a usage error: the CLI names the folder). */
export class RecordingExistsError extends Error {
  override name = 'RecordingExistsError';
}

function describeResult(
  result: TransportResult,
  clean: (text: string) => string,
): Omit<RecordedExchange, 'seq' | 'method' | 'path' | 'query'> {
  if (result.raw === undefined) {
    const facts = result.ok ? undefined : result.facts;
    return {
      network: facts?.network ?? 'connection',
      ...(facts?.networkCode === undefined ? {} : { networkCode: facts.networkCode }),
    };
  }
  const headers = Object.fromEntries(
    KEPT_HEADERS.flatMap((h) => (result.raw?.headers[h] === undefined ? [] : [[h, result.raw.headers[h]]])),
  ) as Record<string, string>;
  return { status: result.raw.status, headers, body: clean(result.raw.text) };
}

/** A body without tokens or the host, and with content hashed when a key is given. */
export function cleanBody(
  text: string,
  token: string,
  origin: string,
  redactKey: string | undefined,
): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON (an HTML page, a cut body): only the token and the host are taken out.
    const stripped = text
      .replace(/([?&])access_token=[^&"'\s<]*&?/g, (_m, sep: string) => sep)
      .split(token)
      .join('[token]')
      .split(origin)
      .join(ORIGIN_PLACEHOLDER);
    return redactKey === undefined
      ? stripped
      : `[${Buffer.byteLength(text)} bytes that are not JSON, redacted]`;
  }
  const walk = (value: unknown, key: string | undefined, inPaging: boolean): unknown => {
    if (typeof value === 'string') return cleanString(value, key, inPaging);
    if (Array.isArray(value)) return value.map((v) => walk(v, key, inPaging));
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k, walk(v, k, inPaging || k === 'paging')]),
      );
    }
    return value;
  };
  const cleanString = (value: string, key: string | undefined, inPaging: boolean): string => {
    let out = value;
    if (/^https?:\/\//.test(out)) {
      try {
        out = stripAccessToken(new URL(out)).toString();
      } catch {
        // not a URL after all
      }
    }
    out = out.split(token).join('[token]');
    if (redactKey !== undefined && !inPaging && key !== undefined && CONTENT_KEY.test(key)) {
      return `[redacted ${createHmac('sha256', redactKey).update(value).digest('hex').slice(0, 12)}]`;
    }
    return out.split(origin).join(ORIGIN_PLACEHOLDER);
  };
  return JSON.stringify(walk(parsed, undefined, false));
}
