import { access, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { ensureDirSync, refuseLink } from '../output-path.js';
import { CONVERSATION_COLUMNS, MESSAGE_COLUMNS, type Column } from '../schema/tables.js';
import { digestFile } from '../writers/file-digest.js';
import { createParquetWriter, type ParquetWriterOptions } from '../writers/parquet-writer.js';
import {
  accountDir as accountDirOf,
  currentViewDir,
  MANIFEST_FILE,
  snapshotDir,
  snapshotIdsIn,
  tableFile,
} from './snapshot-layout.js';
import type { FileEntry } from './snapshot-manifest.js';
import { capturedUnsends } from './captured-messages.js';

export interface CompactResult {
  accountId: string;
  dir: string;
  /** Snapshots read by this compaction (the previous current view stands for the ones read before). */
  snapshots: number;
  files: Record<string, FileEntry>;
}

/** `current/account=<id>/manifest.json`. */
export interface CurrentViewManifest {
  built_at: string;
  account_id: string;
  /** Every snapshot whose rows this view holds, including those folded by earlier compactions. */
  snapshot_ids: string[];
  files: Record<string, FileEntry>;
}

/** The current view's manifest, or undefined when the account has none yet. */
export async function readCurrentView(
  outputRoot: string,
  accountId: string,
): Promise<CurrentViewManifest | undefined> {
  try {
    const text = await readFile(join(currentViewDir(outputRoot, accountId), MANIFEST_FILE), 'utf8');
    const m = JSON.parse(text) as Partial<CurrentViewManifest>;
    return { ...(m as CurrentViewManifest), snapshot_ids: m.snapshot_ids ?? [] };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

const sqlString = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/**
 * One column of the select list, with timestamps as epoch milliseconds (what our writer takes); a column that no file
 * holds yet (snapshots written before it existed) is NULL.
 */
function selectColumn(c: Column, present: ReadonlySet<string>, alias = ''): string {
  if (!present.has(c.name)) return `NULL AS ${c.name}`;
  return c.type === 'timestamp' ? `epoch_ms(${alias}${c.name})::DOUBLE AS ${c.name}` : `${alias}${c.name}`;
}

/** The columns a union of Parquet files holds. */
async function columnsOf(
  connection: Awaited<ReturnType<DuckDBInstance['connect']>>,
  source: string,
): Promise<Set<string>> {
  const reader = await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`);
  return new Set(reader.getRowObjectsJS().map((r) => r['column_name'] as string));
}

/**
 * The current view of one account: every snapshot, and the previous current view (which holds the rows of
 * snapshots that `prune` may have removed since), folded into one row per message (a row with content, hydrated
 * or captured, beats any other; otherwise the latest snapshot wins) and one row per conversation (its latest row, with counts over the
 * current messages). DuckDB does the folding with a memory limit (it spills to disk), so time grows with the data
 * and memory stays bounded; rows stream from DuckDB into the same Parquet writer as the snapshots, so the current
 * view has exactly their schema. Each file is written under a temporary name and renamed into place; the manifest is
 * written last.
 */
export async function compactAccount(
  outputRoot: string,
  accountId: string,
  parquet: ParquetWriterOptions,
  now: () => number,
  /** The state directory: unsends `listen` captured there set `deleted_at` on the rows of earlier snapshots too. */
  stateDir?: string,
): Promise<CompactResult> {
  const unsends = stateDir === undefined ? new Map<string, number>() : capturedUnsends(stateDir, accountId);
  refuseLink(accountDirOf(outputRoot, accountId));
  const ids = await snapshotIdsIn(accountDirOf(outputRoot, accountId));
  const dir = currentViewDir(outputRoot, accountId);
  refuseLink(dir);
  const previous = await readCurrentView(outputRoot, accountId);
  ensureDirSync(dir);
  const tag = `${process.pid}-${now()}`;
  const spill = join(outputRoot, 'current', `.duckdb-spill-${tag}`);
  const db = await DuckDBInstance.create(':memory:', {
    memory_limit: '256MB',
    threads: '2',
    temp_directory: spill,
  });
  const connection = await db.connect();
  const files: Record<string, FileEntry> = {};
  try {
    const sources = async (table: 'messages' | 'conversations'): Promise<string[]> => {
      const files = ids.map((id) =>
        join(snapshotDir(outputRoot, accountId, id), tableFile(table, 'parquet')),
      );
      const carried = join(dir, tableFile(table, 'parquet'));
      if (
        previous &&
        (await access(carried).then(
          () => true,
          () => false,
        ))
      )
        files.push(carried);
      return files;
    };
    const messageFiles = await sources('messages');
    const conversationFiles = await sources('conversations');
    if (messageFiles.length === 0) throw new Error(`account ${accountId} has no snapshot to compact`);
    const glob = (table: string): string =>
      `read_parquet([${(table === 'messages' ? messageFiles : conversationFiles).map(sqlString).join(', ')}], hive_partitioning = false, union_by_name = true)`;
    const tmpMessages = join(dir, `.messages.parquet.tmp-${tag}`);
    const messageColumns = await columnsOf(connection, glob('messages'));
    const conversationColumns = await columnsOf(connection, glob('conversations'));
    await connection.run('CREATE TEMP TABLE unsends (message_id VARCHAR PRIMARY KEY, unsent_ms DOUBLE)');
    const pairs = [...unsends];
    for (let i = 0; i < pairs.length; i += 500) {
      const values = pairs
        .slice(i, i + 500)
        .map(([mid, ms]) => `(${sqlString(mid)}, ${Number(ms)})`)
        .join(', ');
      await connection.run(`INSERT OR IGNORE INTO unsends VALUES ${values}`);
    }
    const folded = `SELECT ${MESSAGE_COLUMNS.map((c) => selectColumn(c, messageColumns)).join(', ')} FROM ${glob('messages')}
       QUALIFY row_number() OVER (PARTITION BY message_id ORDER BY hydration_status IN ('hydrated', 'captured') DESC, snapshot_id DESC) = 1`;
    const messages = await copyQuery(
      connection,
      `SELECT ${MESSAGE_COLUMNS.map((c) =>
        c.name === 'deleted_at' ? 'coalesce(m.deleted_at, u.unsent_ms) AS deleted_at' : `m.${c.name}`,
      ).join(', ')}
       FROM (${folded}) m LEFT JOIN unsends u USING (message_id)
       ORDER BY m.conversation_id, m.created_time DESC, m.message_id`,
      tmpMessages,
      MESSAGE_COLUMNS,
      parquet,
    );
    const tmpConversations = join(dir, `.conversations.parquet.tmp-${tag}`);
    const conversations = await copyQuery(
      connection,
      `WITH latest AS (
         SELECT * FROM ${glob('conversations')}
         QUALIFY row_number() OVER (PARTITION BY conversation_id ORDER BY updated_time DESC, snapshot_id DESC) = 1),
       counts AS (
         SELECT conversation_id, count(*) AS n, count(*) FILTER (hydration_status = 'hydrated') AS h
         FROM read_parquet(${sqlString(tmpMessages)}) GROUP BY conversation_id)
       SELECT ${CONVERSATION_COLUMNS.map((c) =>
         c.name === 'message_count'
           ? 'coalesce(latest.message_count, counts.n, 0)::INTEGER AS message_count'
           : c.name === 'snapshot_message_rows'
             ? 'coalesce(counts.n, 0)::INTEGER AS snapshot_message_rows'
             : c.name === 'hydrated_count'
               ? 'coalesce(counts.h, 0)::INTEGER AS hydrated_count'
               : selectColumn(c, conversationColumns, 'latest.'),
       ).join(', ')}
       FROM latest LEFT JOIN counts USING (conversation_id)
       ORDER BY updated_time DESC, conversation_id`,
      tmpConversations,
      CONVERSATION_COLUMNS,
      parquet,
    );
    for (const [name, tmp, rows] of [
      ['messages.parquet', tmpMessages, messages],
      ['conversations.parquet', tmpConversations, conversations],
    ] as const) {
      files[name] = { rows, ...(await digestFile(tmp)) };
      await rename(tmp, join(dir, name));
    }
    const manifest: CurrentViewManifest = {
      built_at: new Date(now()).toISOString(),
      account_id: accountId,
      snapshot_ids: [...new Set([...(previous?.snapshot_ids ?? []), ...ids])].sort(),
      files,
    };
    const tmpManifest = join(dir, `.manifest.json.tmp-${tag}`);
    await writeFile(tmpManifest, `${JSON.stringify(manifest, null, 2)}\n`, { flag: 'wx' });
    await rename(tmpManifest, join(dir, MANIFEST_FILE));
    return { accountId, dir, snapshots: ids.length, files };
  } finally {
    connection.closeSync();
    db.closeSync();
    await rm(spill, { recursive: true, force: true });
    for (const name of await readdir(dir))
      if (name.includes(`.tmp-${tag}`)) await rm(join(dir, name), { force: true });
  }
}

/** Streams a query's rows, chunk by chunk, into a Parquet file; returns the row count. */
async function copyQuery(
  connection: Awaited<ReturnType<DuckDBInstance['connect']>>,
  sql: string,
  path: string,
  columns: readonly Column[],
  parquet: ParquetWriterOptions,
): Promise<number> {
  const writer = createParquetWriter<Record<string, unknown>>(path, columns, parquet);
  try {
    const result = await connection.stream(sql);
    for await (const rows of result.yieldRowObjectJs()) {
      for (const row of rows) await writer.write(row);
    }
    return (await writer.close()).rows;
  } catch (e) {
    await writer.abort();
    throw e;
  }
}
