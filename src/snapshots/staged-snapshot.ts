import { join } from 'node:path';
import { writeNewFile } from '../output-path.js';
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
import { tableFile, type SnapshotTable } from './layout.js';
import { FORMATS, type TableFormat } from './formats.js';
import type { FileEntry, Manifest } from './manifest.js';
import type { SnapshotStore, StagedSnapshot } from './snapshot-store.js';

/**
 * One snapshot being written: every table in every format of the registry (formats.ts), into the store's staging
 * area, published whole (manifest last) or discarded. Readers never see half a snapshot.
 */
export class SnapshotWriter {
  private readonly staged: StagedSnapshot;
  private readonly messages: Array<[string, TableWriter<MessageRow>]>;
  private readonly conversations: Array<[string, TableWriter<ConversationRow>]>;
  private readonly media: Array<[string, TableWriter<MediaRow>]>;

  private constructor(
    store: SnapshotStore,
    accountId: string,
    readonly snapshotId: string,
    parquet: ParquetWriterOptions,
    withMedia: boolean,
    formats: readonly TableFormat[],
  ) {
    this.staged = store.stage(accountId, snapshotId);
    const open = <Row extends object>(table: SnapshotTable, columns: readonly Column[]) =>
      FORMATS.filter((f) => formats.includes(f.name)).map((f): [string, TableWriter<Row>] => {
        const name = tableFile(table, f.name);
        return [name, f.open<Row>(join(this.staged.dir, name), columns, parquet)];
      });
    this.messages = open<MessageRow>('messages', MESSAGE_COLUMNS);
    this.conversations = open<ConversationRow>('conversations', CONVERSATION_COLUMNS);
    this.media = withMedia ? open<MediaRow>('media', MEDIA_COLUMNS) : [];
  }

  static open(
    store: SnapshotStore,
    accountId: string,
    snapshotId: string,
    parquet: ParquetWriterOptions,
    withMedia = false,
    /** The formats each table is written in: every format unless asked (`--formats`). */
    formats: readonly TableFormat[] = FORMATS.map((f) => f.name),
  ): SnapshotWriter {
    return new SnapshotWriter(store, accountId, snapshotId, parquet, withMedia, formats);
  }

  /** The staging folder (files beside the tables, such as media, go there too). */
  get tmpDir(): string {
    return this.staged.dir;
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
      files[name] = { rows, ...(await digestFile(join(this.staged.dir, name))) };
    }
    return files;
  }

  /** A file beside the tables (the report), written whole; returns its size and SHA-256 for the manifest. */
  async writeFile(name: string, content: string): Promise<FileEntry> {
    const path = join(this.staged.dir, name);
    await writeNewFile(path, content);
    return digestFile(path);
  }

  /** Data files are closed: write the manifest (and its digest) last, then make the snapshot visible with one rename. */
  publish(manifest: Manifest): Promise<string> {
    return this.staged.publish(manifest);
  }

  /** Nothing is published: stop the writers and delete the temporary directory. */
  async discard(): Promise<void> {
    await Promise.allSettled(
      [...this.messages, ...this.conversations, ...this.media].map(([, w]) => w.abort()),
    );
    await this.staged.discard();
  }
}
