import { access, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureDirSync } from '../output-path.js';
import {
  CONVERSATION_COLUMNS,
  MESSAGE_COLUMNS,
  type ConversationRow,
  type MessageRow,
} from '../schema/tables.js';
import { digestFile } from '../writers/file-digest.js';
import { createNdjsonWriter } from '../writers/ndjson-writer.js';
import { createParquetWriter, type ParquetWriterOptions } from '../writers/parquet-writer.js';
import type { TableWriter } from '../writers/table-writer.js';

export interface FileEntry {
  rows: number;
  bytes: number;
  sha256: string;
}

/** `20261127T140512.123Z`: sortable, no colons (safe in folder names on every OS and in hive paths). */
export function snapshotIdFor(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '');
}

/**
 * One run's output directory, laid out for hive partitioning as `account=<id>/snapshot=<id>/` (folder keys differ
 * from the file's `account_id`/`snapshot_id` columns, so DuckDB does not replace them). Written under a hidden
 * temporary name and renamed when complete: readers never see half a snapshot.
 */
export class SnapshotWriter {
  readonly finalDir: string;
  readonly tmpDir: string;
  private readonly messages: Array<TableWriter<MessageRow>>;
  private readonly conversations: Array<TableWriter<ConversationRow>>;

  private constructor(
    readonly snapshotId: string,
    accountDir: string,
    parquet: ParquetWriterOptions,
  ) {
    this.finalDir = join(accountDir, `snapshot=${snapshotId}`);
    this.tmpDir = join(accountDir, `.snapshot=${snapshotId}.tmp-${process.pid}`);
    ensureDirSync(this.tmpDir);
    this.messages = [
      createNdjsonWriter(join(this.tmpDir, 'messages.ndjson'), MESSAGE_COLUMNS),
      createParquetWriter(join(this.tmpDir, 'messages.parquet'), MESSAGE_COLUMNS, parquet),
    ];
    this.conversations = [
      createNdjsonWriter(join(this.tmpDir, 'conversations.ndjson'), CONVERSATION_COLUMNS),
      createParquetWriter(join(this.tmpDir, 'conversations.parquet'), CONVERSATION_COLUMNS, parquet),
    ];
  }

  static async exists(outputRoot: string, accountId: string, snapshotId: string): Promise<boolean> {
    return access(join(outputRoot, `account=${accountId}`, `snapshot=${snapshotId}`)).then(
      () => true,
      () => false,
    );
  }

  static open(
    outputRoot: string,
    accountId: string,
    snapshotId: string,
    parquet: ParquetWriterOptions,
  ): SnapshotWriter {
    return new SnapshotWriter(snapshotId, join(outputRoot, `account=${accountId}`), parquet);
  }

  async writeMessage(row: MessageRow): Promise<void> {
    for (const w of this.messages) await w.write(row);
  }

  async writeConversation(row: ConversationRow): Promise<void> {
    for (const w of this.conversations) await w.write(row);
  }

  /** Closes every file and returns rows, size and SHA-256 per file name. */
  async close(): Promise<Record<string, FileEntry>> {
    const names = ['messages.ndjson', 'messages.parquet', 'conversations.ndjson', 'conversations.parquet'];
    const writers = [...this.messages, ...this.conversations];
    const files: Record<string, FileEntry> = {};
    for (const [i, w] of writers.entries()) {
      const { rows } = await w.close();
      const name = names[i] ?? `file${i}`;
      files[name] = { rows, ...(await digestFile(join(this.tmpDir, name))) };
    }
    return files;
  }

  /** Data files are closed: write the manifest last, then make the snapshot visible with one rename. */
  async publish(manifest: unknown): Promise<string> {
    await writeFile(join(this.tmpDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`, {
      flag: 'wx',
    });
    await rename(this.tmpDir, this.finalDir);
    return this.finalDir;
  }

  /** Nothing is published: stop the writers and delete the temporary directory. */
  async discard(): Promise<void> {
    await Promise.allSettled([...this.messages, ...this.conversations].map((w) => w.abort()));
    await rm(this.tmpDir, { recursive: true, force: true });
  }
}
