import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { pathExists } from '../output-path.js';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { knownStatus, type HydrationStatus } from '../schema/tables.js';
import { KNOWN_PER_CONVERSATION, type ConversationCommit, type StateStore } from '../state/state-store.js';
import { snapshotDirIn, snapshotIdsIn, tableFile, temporarySnapshotsIn } from './layout.js';
import { sqlString } from './duckdb-sql.js';
import { ManifestError, readManifest } from './manifest.js';

async function* lines(path: string): AsyncGenerator<Record<string, unknown>> {
  for await (const line of createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity })) {
    if (line !== '') yield JSON.parse(line) as Record<string, unknown>;
  }
}

/** A Parquet table's rows through DuckDB, timestamps as epoch milliseconds, chunk by chunk. */
async function* parquetRows(path: string): AsyncGenerator<Record<string, unknown>> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:', { memory_limit: '64MB', threads: '1' });
  const c = await db.connect();
  try {
    const file = sqlString(path);
    const timestamps = (await c.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${file})`))
      .getRowObjectsJS()
      .filter((r) => (r['column_type'] as string).startsWith('TIMESTAMP'))
      .map((r) => r['column_name'] as string);
    const ms = timestamps.map((n) => `epoch_ms(${n})::DOUBLE AS ${n}`);
    const replace = ms.length === 0 ? '' : ` REPLACE (${ms.join(', ')})`;
    const result = await c.stream(`SELECT *${replace} FROM read_parquet(${file})`);
    for await (const rows of result.yieldRowObjectJs()) yield* rows;
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

/** A time as NDJSON holds it (ISO 8601) or as read from Parquet (epoch milliseconds). */
const timeMs = (v: unknown): number => (typeof v === 'number' ? v : Date.parse(String(v)));

/** A table of a snapshot: its NDJSON file, or its Parquet file when the snapshot was written without NDJSON. */
async function* tableRows(
  dir: string,
  table: 'messages' | 'conversations',
): AsyncGenerator<Record<string, unknown>> {
  const ndjson = join(dir, tableFile(table, 'ndjson'));
  yield* (await pathExists(ndjson)) ? lines(ndjson) : parquetRows(join(dir, tableFile(table, 'parquet')));
}

/**
 * Brings the state up to date with the snapshots on disk, for the crash window between a snapshot's rename and its
 * state commit (and for snapshots written before any state existed): every published snapshot the state has not
 * recorded is read back and committed. Also removes temporary directories left by killed runs (the caller holds
 * the account's lock, so none of them is in use). Returns the snapshot ids it committed.
 */
export async function reconcileSnapshots(
  store: StateStore,
  accountDir: string,
  windowSize: number,
): Promise<{ committed: string[]; invalid: Array<{ snapshotId: string; reason: string }> }> {
  for (const dir of await temporarySnapshotsIn(accountDir)) await rm(dir, { recursive: true, force: true });
  const committed: string[] = [];
  const invalid: Array<{ snapshotId: string; reason: string }> = [];
  for (const snapshotId of await snapshotIdsIn(accountDir)) {
    if (store.hasSnapshot(snapshotId)) continue;
    const dir = snapshotDirIn(accountDir, snapshotId);
    let manifest;
    try {
      manifest = await readManifest(dir);
    } catch (e) {
      // Not trusted, so not recorded: the conversations it holds are simply exported again.
      if (!(e instanceof ManifestError)) throw e;
      invalid.push({ snapshotId, reason: e.message });
      continue;
    }
    if (manifest.filters.since !== null || manifest.filters.until !== null || manifest.mode === 'import') {
      // A time-window export is not part of the archive's state (its conversations were read only in part), nor is
      // an archive's import (it says nothing of what the API gives).
      store.commitSnapshot(snapshotId, manifest.run_id, [], Date.parse(manifest.ended_at));
      committed.push(snapshotId);
      continue;
    }
    const incomplete = new Set(
      manifest.failures.filter((f) => f.stage === 'expand').map((f) => f.conversation_id),
    );
    const checkedMs = Date.parse(manifest.ended_at);
    const messages = new Map<string, ConversationCommit['messages']>();
    for await (const row of tableRows(dir, 'messages')) {
      const position = Number(row['position']);
      if (position >= KNOWN_PER_CONVERSATION) continue;
      const conversationId = String(row['conversation_id']);
      const list = messages.get(conversationId) ?? [];
      list.push({
        messageId: String(row['message_id']),
        createdMs: timeMs(row['created_time']),
        status: knownStatus(row['hydration_status'] as HydrationStatus),
        position,
      });
      messages.set(conversationId, list);
    }
    const commits: ConversationCommit[] = [];
    for await (const row of tableRows(dir, 'conversations')) {
      const conversationId = String(row['conversation_id']);
      commits.push({
        conversationId,
        updatedMs: timeMs(row['updated_time']),
        checkedMs,
        complete: !incomplete.has(conversationId),
        // Snapshots of earlier versions held this snapshot's rows in message_count, not the total.
        messageTotal:
          'snapshot_message_rows' in row && typeof row['message_count'] === 'number'
            ? row['message_count']
            : undefined,
        messages: messages.get(conversationId) ?? [],
        windowSize,
      });
    }
    store.commitSnapshot(snapshotId, manifest.run_id, commits, checkedMs);
    if (manifest.checkpoint.final && manifest.stop_reason === null) {
      // A finished run: later runs count losses from its start (its watermark is unknown: the next run lists all).
      store.finishRun(undefined, Date.parse(manifest.run_started_at));
    }
    committed.push(snapshotId);
  }
  return { committed, invalid };
}
