import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MediaOptions } from '../../src/pipeline/extensions/media-archive.js';
import { verifySnapshot } from '../../src/snapshots/verify.js';
import { assetBytes, MediaCdn } from '../../src/sandbox/media-cdn.js';
import type { Sandbox } from '../../src/sandbox/create-sandbox.js';
import { exportSandbox, tempDir } from '../helpers/export-options.js';
import { readNdjson } from '../helpers/expected-rows.js';
import { startSandbox, TEST_TOKEN } from '../helpers/sandbox-fixture.js';

const MEDIA: MediaOptions = {
  concurrency: 3,
  maxBytes: 1_000_000,
  timeoutMs: 10_000,
  retries: 3,
  backoff: { baseMs: 10, maxMs: 100 },
};

/** Every media URL of the messages an export can hydrate (the 20 most recent, not unsent), with its kind. */
function expectedMedia(sandbox: Sandbox): Array<{ message_id: string; url: string }> {
  return sandbox.data.conversations.flatMap((c) =>
    c.messages
      .slice(0, 20)
      .filter((m) => !m.unsent)
      .flatMap((m) =>
        [
          ...(m.attachments?.data ?? []).map(
            (a) => ((a['image_data'] ?? a['video_data']) as { url: string }).url,
          ),
          ...(m.shares?.data ?? []).map((s) => s.link),
          ...Object.values(m.story ?? {}).map((s) => s.link),
        ].map((url) => ({ message_id: m.id, url })),
      ),
  );
}

const assetOf = (url: string): string => new URL(url).searchParams.get('asset_id') ?? new URL(url).pathname;

describe('--download-media', () => {
  it('archives every media file, records every failure, never sends a credential, and verifies', async () => {
    const sandbox = await startSandbox({
      seed: 21,
      conversations: 80,
      media: { expiredRate: 0.15, transientRate: 0.25, largeRate: 0.05, largeBytes: 3_000_000 },
    });
    const summary = await exportSandbox(sandbox, await tempDir(), { run: { media: MEDIA, hydrate: 'auto' } });
    expect(summary.status).toBe('complete');
    const dir = summary.snapshotDir!;
    const rows = await readNdjson(join(dir, 'media.ndjson'));
    const expected = expectedMedia(sandbox);
    expect(expected.length).toBeGreaterThan(30);
    expect(rows.map((r) => `${String(r['message_id'])} ${String(r['url'])}`).sort()).toEqual(
      expected.map((e) => `${e.message_id} ${e.url}`).sort(),
    );

    // Each ending matches what the CDN was set up to do with that asset.
    const fates = new MediaCdn(21, sandbox.options.media);
    const seen = new Set<string>();
    for (const r of rows) {
      const asset = assetOf(String(r['url']));
      const fate = fates.fate(asset);
      const bytes = assetBytes(21, asset, sandbox.options.media);
      if (fate.expired) expect(r).toMatchObject({ status: 'expired', http_status: 403, path: null });
      else if (bytes.length > MEDIA.maxBytes) expect(r).toMatchObject({ status: 'too_large', path: null });
      else {
        const sha = createHash('sha256').update(bytes).digest('hex');
        expect(r).toMatchObject({
          status: 'downloaded',
          bytes: bytes.length,
          sha256: sha,
          path: `media/${sha}`,
        });
        expect((await readFile(join(dir, 'media', sha))).equals(bytes)).toBe(true);
        seen.add(sha);
      }
    }
    const statuses = new Set(rows.map((r) => r['status']));
    expect(statuses).toEqual(new Set(['downloaded', 'expired', 'too_large']));
    // Transient CDN failures were retried to success.
    expect(sandbox.stats.media.filter((m) => m.status === 503).length).toBeGreaterThan(0);

    // The manifest lists each distinct file once, with its hash; the whole snapshot verifies.
    const manifest = summary.manifest!;
    expect(manifest.media).toMatchObject({
      files: seen.size,
      expired: rows.filter((r) => r['status'] === 'expired').length,
    });
    expect(
      Object.keys(manifest.files)
        .filter((f) => f.startsWith('media/'))
        .sort(),
    ).toEqual([...seen].map((s) => `media/${s}`).sort());
    expect((await verifySnapshot(dir)).problems).toEqual([]);

    // No media request carried the token or any credential, and none counts as an API call.
    expect(sandbox.stats.media.length).toBeGreaterThan(rows.length);
    expect(sandbox.stats.media.some((m) => m.authorization || m.accessToken)).toBe(false);
    expect(JSON.stringify(sandbox.stats.media)).not.toContain(TEST_TOKEN);
    expect(sandbox.stats.requests.every((r) => !r.path.startsWith('/cdn/'))).toBe(true);

    // verify notices a media file whose content changed.
    const victim = [...seen][0]!;
    await writeFile(join(dir, 'media', victim), 'not the picture');
    const kinds = (await verifySnapshot(dir)).problems.map((p) => p.kind);
    expect(kinds).toEqual(['media_altered', 'truncated']);
  });

  it('records a download that keeps failing as failed, and the run still completes', async () => {
    const sandbox = await startSandbox({
      seed: 22,
      conversations: 30,
      media: { transientRate: 1, transientFailures: 10 },
    });
    const summary = await exportSandbox(sandbox, await tempDir(), {
      run: { media: { ...MEDIA, retries: 1 } },
    });
    expect(summary.status).toBe('complete');
    const rows = await readNdjson(join(summary.snapshotDir!, 'media.ndjson'));
    expect(rows.length).toBe(expectedMedia(sandbox).length);
    expect(rows.every((r) => r['status'] === 'failed' && r['error'] === 'HTTP 503')).toBe(true);
    // One attempt and one retry each.
    expect(sandbox.stats.media).toHaveLength(rows.length * 2);
  });
});
