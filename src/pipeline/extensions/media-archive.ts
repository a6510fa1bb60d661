import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import pLimit from 'p-limit';
import type { Clock } from '../../clock.js';
import { backoffDelay, type BackoffOptions } from '../../graph/backoff.js';
import { transientRetry, type RetryStep } from '../../graph/policies/transient-retry.js';
import { ensureDirSync, pathExists } from '../../output-path.js';
import type { MediaRow } from '../../schema/tables.js';
import { MEDIA_DIR } from '../../snapshots/layout.js';

/** `--download-media` settings. */
export interface MediaOptions {
  /** Downloads in flight at once (the CDN is another host: this is not the Graph call budget). */
  concurrency: number;
  /** A file larger than this is not kept (status `too_large`). */
  maxBytes: number;
  /** Per download, headers and body. */
  timeoutMs: number;
  /** Retries of a transient failure (network, timeout, HTTP 5xx or 429). */
  retries: number;
  backoff: BackoffOptions;
}

/** One media URL a hydrated message carried. */
export interface MediaRef {
  conversationId: string;
  messageId: string;
  kind: string;
  url: string;
}

/** A download that ended, however it ended. */
export type MediaOutcome = Omit<MediaRow, 'account_id' | 'snapshot_id'>;

class TooLarge extends Error {}

/** An answer not worth retrying (the URL expired, or is not http(s)). */
class Permanent extends Error {
  constructor(
    message: string,
    readonly status: MediaRow['status'],
    readonly httpStatus: number | null,
  ) {
    super(message);
  }
}

const transientStatus = (s: number): boolean => s >= 500 || s === 429 || s === 408;

/** The CDN's classifier: an expired URL, a refused request or a file too large is final; anything else is transient. */
function cdnFailureIsFinal(e: unknown): boolean {
  return e instanceof Permanent || e instanceof TooLarge;
}

type Fetched = Pick<MediaOutcome, 'http_status' | 'content_type' | 'bytes' | 'sha256' | 'path'>;

/**
 * Media files archived into the open snapshot, content-addressed as `media/<sha256>` (a file sent twice is stored
 * once). Downloads run beside the export with their own concurrency, size and time bounds and retries; they never
 * carry the access token (plain requests, no credentials) and never fail the run: every ending is a row.
 */
export class MediaArchive {
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly inFlight = new Set<Promise<void>>();
  private finished: MediaOutcome[] = [];

  constructor(
    private readonly options: MediaOptions,
    private readonly clock: Clock,
    random: () => number,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.limit = pLimit(options.concurrency);
    // The Graph client's retry policy, with the CDN's classifier and the media download's own budget and backoff.
    this.fetchWithRetries = transientRetry<{ url: URL; dir: string }, Fetched>({
      rulesFor: () => {
        let attempt = 0;
        return (e): RetryStep =>
          cdnFailureIsFinal(e)
            ? { retry: false }
            : { retry: true, waitMs: backoffDelay(++attempt, options.backoff, random), spendsRetry: true };
      },
      maxRetries: options.retries,
      clock,
      signal,
    })(({ url, dir }) => this.fetchOnce(url, dir));
  }

  private readonly fetchWithRetries: (request: { url: URL; dir: string }) => Promise<Fetched>;

  /**
   * Starts downloading `ref` into `<snapshotDir>/media/`. Waits while the queue is full, so memory stays bounded
   * however many media a run meets.
   */
  async enqueue(ref: MediaRef, snapshotDir: string): Promise<void> {
    while (this.limit.pendingCount >= this.options.concurrency * 4) await Promise.race(this.inFlight);
    const job = this.limit(async () => {
      // Not `this.finished.push(await …)`: that would push into the array taken meanwhile.
      const outcome = await this.download(ref, join(snapshotDir, MEDIA_DIR));
      this.finished.push(outcome);
    });
    this.inFlight.add(job);
    void job.finally(() => this.inFlight.delete(job));
  }

  /** Waits for every download started so far (before a snapshot is published). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** The downloads that ended since the last call, for the media table. */
  takeFinished(): MediaOutcome[] {
    const out = this.finished;
    this.finished = [];
    return out;
  }

  private async download(ref: MediaRef, dir: string): Promise<MediaOutcome> {
    const base = {
      conversation_id: ref.conversationId,
      message_id: ref.messageId,
      kind: ref.kind,
      url: ref.url,
    };
    const ended = (o: Partial<MediaOutcome> & Pick<MediaOutcome, 'status'>): MediaOutcome => ({
      ...base,
      http_status: null,
      content_type: null,
      bytes: null,
      sha256: null,
      path: null,
      error: null,
      downloaded_at: this.clock.now(),
      ...o,
    });
    let url: URL;
    try {
      url = new URL(ref.url);
    } catch {
      return ended({ status: 'failed', error: 'not a URL' });
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      return ended({ status: 'failed', error: `not http(s): ${url.protocol}` });
    ensureDirSync(dir);
    try {
      return ended({ status: 'downloaded', ...(await this.fetchWithRetries({ url, dir })) });
    } catch (e) {
      if (e instanceof Permanent)
        return ended({ status: e.status, http_status: e.httpStatus, error: e.message });
      if (e instanceof TooLarge) return ended({ status: 'too_large', error: e.message });
      const cause = (e as { cause?: { code?: string } }).cause?.code;
      return ended({ status: 'failed', error: `${(e as Error).message}${cause ? ` (${cause})` : ''}` });
    }
  }

  /** One attempt: streams the body to a temporary file while hashing it, then renames it to its hash. */
  private async fetchOnce(url: URL, dir: string): Promise<Fetched> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const signal = this.signal ? AbortSignal.any([this.signal, timeout]) : timeout;
    // No credentials of any kind: the CDN's URL is signed on its own, and the token must never leave for it.
    const res = await fetch(url, { signal, redirect: 'follow', credentials: 'omit' });
    if (!res.ok) {
      await res.body?.cancel();
      const message = `HTTP ${res.status}`;
      if (transientStatus(res.status)) throw new Error(message);
      // 403/404/410: Meta's CDN answers so once a signed URL has expired.
      throw new Permanent(message, res.status === 400 ? 'failed' : 'expired', res.status);
    }
    const declared = Number(res.headers.get('content-length') ?? Number.NaN);
    if (declared > this.options.maxBytes) {
      await res.body?.cancel();
      throw new TooLarge(`${declared} bytes, above --max-media-bytes ${this.options.maxBytes}`);
    }
    const tmp = join(dir, `.download-${randomUUID()}`);
    const hash = createHash('sha256');
    let bytes = 0;
    const max = this.options.maxBytes;
    try {
      if (!res.body) throw new Error('empty body');
      const body = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
      body.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        hash.update(chunk);
        if (bytes > max) body.destroy(new TooLarge(`more than --max-media-bytes ${max}`));
      });
      await pipeline(body, createWriteStream(tmp, { flags: 'wx' }));
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    const sha256 = hash.digest('hex');
    const path = `${MEDIA_DIR}/${sha256}`;
    const target = join(dir, sha256);
    if (await pathExists(target)) await rm(tmp, { force: true });
    else await rename(tmp, target);
    return {
      http_status: res.status,
      content_type: res.headers.get('content-type'),
      bytes,
      sha256,
      path,
    };
  }
}
