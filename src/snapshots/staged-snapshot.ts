import { access, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureDirSync, refuseLink, writeNewFile } from '../output-path.js';
import {
  CONVERSATION_COLUMNS,
  MEDIA_COLUMNS,
  MESSAGE_COLUMNS,
  type ConversationRow,
  type MediaRow,
  type Column,
  type MessageRow,
} from '../schema/tables.js';
import { digestFile } from '../writers/file-digest.js';
import type { ParquetWriterOptions } from '../writers/parquet-writer.js';
import type { TableWriter } from '../writers/table-writer.js';
import { accountDir, snapshotDir, tableFile, temporarySnapshotDir, type SnapshotTable } from './layout.js';
import { FORMATS } from './formats.js';
import { writeManifest, type FileEntry, type Manifest } from './manifest.js';

/**
 * One run's output directory, laid out for hive partitioning as `account=<id>/snapshot=<id>/` (folder keys differ
 * from the file's `account_id`/`snapshot_id` columns, so DuckDB does not replace them). Written under a hidden
 * temporary name and renamed when complete: readers never see half a snapshot.
 */
export class SnapshotWriter {
  readonly finalDir: string;
  readonly tmpDir: string;
  private readonly messages: Array<[string, TableWriter<MessageRow>]>;
  private readonly conversations: Array<[string, TableWriter<ConversationRow>]>;
  private readonly media: Array<[string, TableWriter<MediaRow>]>;

  private constructor(
    readonly snapshotId: string,
    outputRoot: string,
    accountId: string,
    parquet: ParquetWriterOptions,
    withMedia: boolean,
  ) {
    refuseLink(accountDir(outputRoot, accountId));
    this.finalDir = snapshotDir(outputRoot, accountId, snapshotId);
    this.tmpDir = temporarySnapshotDir(accountDir(outputRoot, accountId), snapshotId, String(process.pid));
    ensureDirSync(this.tmpDir);
    // Every table in every format of the registry (formats.ts).
    const open = <Row extends object>(table: SnapshotTable, columns: readonly Column[]) =>
      FORMATS.map((f): [string, TableWriter<Row>] => {
        const name = tableFile(table, f.name);
        return [name, f.open<Row>(join(this.tmpDir, name), columns, parquet)];
      });
    this.messages = open<MessageRow>('messages', MESSAGE_COLUMNS);
    this.conversations = open<ConversationRow>('conversations', CONVERSATION_COLUMNS);
    this.media = withMedia ? open<MediaRow>('media', MEDIA_COLUMNS) : [];
  }

  static async exists(outputRoot: string, accountId: string, snapshotId: string): Promise<boolean> {
    return access(snapshotDir(outputRoot, accountId, snapshotId)).then(
      () => true,
      () => false,
    );
  }

  static open(
    outputRoot: string,
    accountId: string,
    snapshotId: string,
    parquet: ParquetWriterOptions,
    withMedia = false,
  ): SnapshotWriter {
    return new SnapshotWriter(snapshotId, outputRoot, accountId, parquet, withMedia);
  }

  async writeMessage(row: MessageRow): Promise<void> {
    for (const [, w] of this.messages) await w.write(row);
  }

  async writeConversation(row: ConversationRow): Promise<void> {
    for (const [, w] of this.conversations) await w.write(row);
  }

  async writeMedia(row: MediaRow): Promise<void> {
    if (this.media.length === 0) throw new Error('this snapshot has no media table');
    for (const [, w] of this.media) await w.write(row);
  }

  /** Closes every file and returns rows, size and SHA-256 per file name. */
  async close(): Promise<Record<string, FileEntry>> {
    const files: Record<string, FileEntry> = {};
    for (const [name, w] of [...this.messages, ...this.conversations, ...this.media]) {
      const { rows } = await w.close();
      files[name] = { rows, ...(await digestFile(join(this.tmpDir, name))) };
    }
    return files;
  }

  /** A file beside the tables (the report), written whole; returns its size and SHA-256 for the manifest. */
  async writeFile(name: string, content: string): Promise<FileEntry> {
    const path = join(this.tmpDir, name);
    await writeNewFile(path, content);
    return digestFile(path);
  }

  /** Data files are closed: write the manifest (and its digest) last, then make the snapshot visible with one rename. */
  async publish(manifest: Manifest): Promise<string> {
    await writeManifest(this.tmpDir, manifest);
    await rename(this.tmpDir, this.finalDir);
    return this.finalDir;
  }

  /** Nothing is published: stop the writers and delete the temporary directory. */
  async discard(): Promise<void> {
    await Promise.allSettled(
      [...this.messages, ...this.conversations, ...this.media].map(([, w]) => w.abort()),
    );
    await rm(this.tmpDir, { recursive: true, force: true });
  }
}
