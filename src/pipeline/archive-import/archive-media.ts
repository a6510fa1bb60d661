import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { ArchiveMessage, DyiArchive } from '../../archive/dyi-archive.js';
import type { MediaRow, MessageRow } from '../../schema/tables.js';
import { MEDIA_DIR } from '../../snapshots/layout.js';
import type { FileEntry, Manifest } from '../../snapshots/manifest.js';
import { writeNewFile } from '../../output-path.js';

const CONTENT_TYPES: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.mp4': 'video/mp4',
  '.mov': 'video/quicktime',
  '.m4a': 'audio/mp4',
  '.mp3': 'audio/mpeg',
  '.aac': 'audio/aac',
};

/**
 * `import-dyi --copy-media`: the media files an archive's messages refer to, copied into the snapshot's
 * content-addressed `media/<sha256>` store (each distinct file once), with a media row per reference, as
 * `export --download-media` does for the CDN's files. A file the archive does not hold is a `failed` row.
 */
export class ArchiveMedia {
  private readonly stored = new Map<string, number>();
  private readonly tally = { downloaded: 0, failed: 0 };

  constructor(
    private readonly archive: DyiArchive,
    private readonly snapshotDir: string,
  ) {}

  async rowsFor(row: MessageRow, media: ArchiveMessage['media']): Promise<MediaRow[]> {
    const out: MediaRow[] = [];
    for (const m of media) {
      const base = {
        account_id: row.account_id,
        conversation_id: row.conversation_id,
        message_id: row.message_id,
        kind: m.kind,
        url: m.uri,
        http_status: null,
        snapshot_id: row.snapshot_id,
        downloaded_at: row.extracted_at,
      };
      let bytes: Buffer;
      try {
        bytes = await this.archive.readFile(m.uri);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        this.tally.failed++;
        out.push({
          ...base,
          status: 'failed',
          content_type: null,
          bytes: null,
          sha256: null,
          path: null,
          error: (e as Error).message,
        });
        continue;
      }
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      if (!this.stored.has(sha256)) {
        await mkdir(join(this.snapshotDir, MEDIA_DIR), { recursive: true });
        await writeNewFile(join(this.snapshotDir, MEDIA_DIR, sha256), bytes);
        this.stored.set(sha256, bytes.length);
      }
      this.tally.downloaded++;
      out.push({
        ...base,
        status: 'downloaded',
        content_type: CONTENT_TYPES[extname(m.uri).toLowerCase()] ?? null,
        bytes: bytes.length,
        sha256,
        path: `${MEDIA_DIR}/${sha256}`,
        error: null,
      });
    }
    return out;
  }

  /** The stored files, for the manifest. */
  files(): Record<string, FileEntry> {
    return Object.fromEntries(
      [...this.stored].map(([sha256, bytes]) => [`${MEDIA_DIR}/${sha256}`, { bytes, sha256 }]),
    );
  }

  summary(): NonNullable<Manifest['media']> {
    return {
      ...this.tally,
      expired: 0,
      too_large: 0,
      files: this.stored.size,
      bytes: [...this.stored.values()].reduce((a, b) => a + b, 0),
    };
  }
}
