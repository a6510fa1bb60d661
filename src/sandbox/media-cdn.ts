import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SandboxMessage } from './dataset.js';
import { createPrng, deriveSeed } from './prng.js';

/**
 * The sandbox's stand-in for Meta's media CDN (lookaside.fbsbx.com): the media URLs of messages point here, and each
 * answers with bytes derived from its asset id, so a download can be checked against the sandbox. Like the real
 * CDN it needs no token, and its signed links expire.
 */
export interface MediaCdnOptions {
  /** Share of assets whose link has expired (403, every time). */
  expiredRate: number;
  /** Share of assets whose first `transientFailures` requests answer 503. */
  transientRate: number;
  transientFailures: number;
  /** Share of assets far larger than the others (`largeBytes`). */
  largeRate: number;
  largeBytes: number;
  /** Size range of ordinary assets. */
  minBytes: number;
  maxBytes: number;
}

export const DEFAULT_MEDIA_CDN: MediaCdnOptions = {
  expiredRate: 0,
  transientRate: 0,
  transientFailures: 2,
  largeRate: 0,
  largeBytes: 3_000_000,
  minBytes: 2_000,
  maxBytes: 40_000,
};

/** Where the dataset's media links point before the sandbox knows its own address. */
export const META_CDN = 'https://lookaside.fbsbx.com/';
export const CDN_PATH = '/cdn/';

export interface MediaRequest {
  path: string;
  status: number;
  /** Whether the request carried any credential: it never should. */
  authorization: boolean;
  accessToken: boolean;
}

/** Points a message's media links (attachments, shares, story) at the sandbox's CDN. */
export function localiseMedia(m: SandboxMessage, base: string): void {
  const swap = <T>(v: T): T => JSON.parse(JSON.stringify(v).replaceAll(META_CDN, `${base}${CDN_PATH}`)) as T;
  if (m.attachments) m.attachments = swap(m.attachments);
  if (m.shares) m.shares = swap(m.shares);
  if (m.story) m.story = swap(m.story);
}

/** The bytes of an asset, the same on every request. */
export function assetBytes(seed: number, asset: string, options: MediaCdnOptions): Buffer {
  const prng = createPrng(deriveSeed(seed, `asset:${asset}`));
  const large = prng.next() < options.largeRate;
  const size = large ? options.largeBytes : prng.int(options.minBytes, options.maxBytes);
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i += 4)
    bytes.writeUInt32LE(Math.floor(prng.next() * 2 ** 32), Math.min(i, size - 4));
  return bytes;
}

export class MediaCdn {
  readonly requests: MediaRequest[] = [];
  private readonly attempts = new Map<string, number>();

  constructor(
    private readonly seed: number,
    private readonly options: MediaCdnOptions,
  ) {}

  /** Whether an asset has expired, or fails transiently at first (a fixed draw per asset). */
  fate(asset: string): { expired: boolean; transient: boolean } {
    const prng = createPrng(deriveSeed(this.seed, `fate:${asset}`));
    return {
      expired: prng.next() < this.options.expiredRate,
      transient: prng.next() < this.options.transientRate,
    };
  }

  serve(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const asset = url.searchParams.get('asset_id') ?? url.pathname;
    const record = (status: number): void => {
      this.requests.push({
        path: `${url.pathname}${url.search}`,
        status,
        authorization: req.headers.authorization !== undefined || req.headers.cookie !== undefined,
        accessToken: url.searchParams.has('access_token'),
      });
    };
    const fate = this.fate(asset);
    const attempt = (this.attempts.get(asset) ?? 0) + 1;
    this.attempts.set(asset, attempt);
    if (fate.expired) {
      record(403);
      res.writeHead(403, { 'content-type': 'text/plain' });
      res.end('URL signature expired');
      return;
    }
    if (fate.transient && attempt <= this.options.transientFailures) {
      record(503);
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('Service Unavailable');
      return;
    }
    const bytes = assetBytes(this.seed, asset, this.options);
    record(200);
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(bytes.length) });
    res.end(bytes);
  }
}
