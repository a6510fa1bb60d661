import { readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { ensureDirSync, pathExists, refuseLink } from '../output-path.js';
import { CONVERSATION_COLUMNS, MESSAGE_COLUMNS, type Column } from '../schema/tables.js';
import { DEFAULT_DUCKDB_MEMORY_MB, openDuckDb } from './duckdb-session.js';
import { contentRank, sqlString } from './duckdb-sql.js';
import { digestFile } from '../writers/file-digest.js';
import { createParquetWriter, type ParquetWriterOptions } from '../writers/parquet-writer.js';
import {
  accountDir as accountDirOf,
  currentViewDir,
  MANIFEST_FILE,
  snapshotDir,
  snapshotIdsIn,
  tableFile,
} from './layout.js';
import { readManifest, type FileEntry } from './manifest.js';
import { capturedUnsends } from '../state/webhook-spool.js';
import {
  CurrentViewAlteredError,
  readCurrentView,
  SnapshotAlteredError,
  type CurrentViewManifest,
} from './current-view.js';

export {
  CurrentViewAlteredError,
  readCurrentView,
  SnapshotAlteredError,
  type CurrentViewManifest,
} from './current-view.js';
import { problemsBeforeReading, verifyCurrentView } from './verify.js';

export interface CompactOptions {
  /** The state directory: unsends `listen` captured there set `deleted_at` on the rows of earlier snapshots too. */
  stateDir?: string | undefined;
  /** Build from the snapshots alone, without the previous view (`compact --rebuild`). */
  rebuild?: boolean;
  /** DuckDB's memory limit in MB (default 256): it spills to disk beyond it, and fails when even that is not enough. */
  duckdbMemoryMb?: number | undefined;
  /**
   * Stops the fold (DuckDB's query interrupted, the rows no longer read) and rejects with the signal's reason: the
   * previous view stands, and nothing of the attempt is left.
   */
  signal?: AbortSignal | undefined;
}

export interface CompactResult {
  accountId: string;
  dir: string;
  /** The account's snapshots the view holds the rows of: those read now, and those the previous view stands for. */
  snapshots: number;
  /** Snapshots read by this compaction: those the previous view had not folded yet, or every one without it. */
  read: number;
  /** Whether the previous current view was folded in. */
  carried: boolean;
  files: Record<string, FileEntry>;
  /** With `rebuild`: snapshots the previous view held rows of that are gone (pruned); their rows are not in the view. */
  dropped: number;
}

/**
 * One column of the select list, with timestamps as epoch milliseconds (what our writer takes); a column that no file
 * holds yet (snapshots written before it existed) is NULL.
 */
function selectColumn(c: Column, present: ReadonlySet<string>, alias = '', bom = false): string {
  if (!present.has(c.name)) return `NULL AS ${c.name}`;
  const name = `${alias}${c.name}`;
  if (c.type === 'timestamp') return `epoch_ms(${name})::DOUBLE AS ${c.name}`;
  if (bom && c.type === 'string') return `${keepLeadingBom(name)} AS ${c.name}`;
  if (bom && c.type === 'string_list')
    return `list_transform(${name}, x -> ${keepLeadingBom('x')}) AS ${c.name}`;
  return name;
}

const BOM = 'chr(65279)';
/**
 * DuckDB's Node API decodes strings with a TextDecoder that drops a leading U+FEFF (byte order mark), so a message
 * text starting with one would lose it in the current view. A string that starts with one gets a second, which the
 * decoder drops, so the row keeps its text byte for byte.
 */
const keepLeadingBom = (expr: string): string =>
  `CASE WHEN starts_with(${expr}, ${BOM}) THEN ${BOM} || ${expr} ELSE ${expr} END`;

/** Whether this DuckDB drops a leading U+FEFF on the way to JavaScript (checked, not assumed: a fix upstream must not double it). */
async function dropsLeadingBom(connection: DuckDBConnection): Promise<boolean> {
  const reader = await connection.runAndReadAll(`SELECT ${BOM} || 'x' AS s`);
  return reader.getRowObjectsJS()[0]?.['s'] === 'x';
}

/** The columns a union of Parquet files holds. */
async function columnsOf(connection: DuckDBConnection, source: string): Promise<Set<string>> {
  const reader = await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`);
  return new Set(reader.getRowObjectsJS().map((r) => r['column_name'] as string));
}

/** What a fold reads of one table: the snapshots it reads, and the previous view's file when there is one. */
function foldSource(
  outputRoot: string,
  accountId: string,
  read: readonly string[],
  previousDir: string | undefined,
  table: 'messages' | 'conversations',
): string {
  const files = read.map((id) => join(snapshotDir(outputRoot, accountId, id), tableFile(table, 'parquet')));
  if (previousDir !== undefined) files.push(join(previousDir, tableFile(table, 'parquet')));
  if (files.length === 0) throw new Error(`account ${accountId} has no snapshot to compact`);
  return `read_parquet([${files.map(sqlString).join(', ')}], hive_partitioning = false, union_by_name = true)`;
}

/**
 * Renames the view's files into place, then writes its manifest (their rows and digests) last: a view whose manifest
 * names files is complete. Returns the manifest's file entries.
 */
async function publishView(
  dir: string,
  tag: string,
  view: Omit<CurrentViewManifest, 'files'> & { written: ReadonlyArray<readonly [string, string, number]> },
): Promise<Record<string, FileEntry>> {
  const { written, ...head } = view;
  const files: Record<string, FileEntry> = {};
  for (const [name, tmp, rows] of written) {
    files[name] = { rows, ...(await digestFile(tmp)) };
    await rename(tmp, join(dir, name));
  }
  const manifest: CurrentViewManifest = { ...head, files };
  const tmpManifest = join(dir, `.manifest.json.tmp-${tag}`);
  await writeFile(tmpManifest, `${JSON.stringify(manifest, null, 2)}\n`, { flag: 'wx' });
  await rename(tmpManifest, join(dir, MANIFEST_FILE));
  return files;
}

/**
 * The current view of one account: the previous current view (which stands for every snapshot it folded, `prune`d
 * ones included) and the snapshots it has not folded yet (every snapshot with `rebuild` or without a view), folded into
 * one row per message (a row with content, hydrated, captured or imported, beats any other; otherwise the latest
 * snapshot wins) and one row per conversation (its latest row, with counts over the current messages). DuckDB does the
 * folding with a memory limit (it spills to disk), so time grows with the data and memory stays bounded; rows stream from DuckDB into the same Parquet writer as the snapshots, so the current
 * view has exactly their schema. Each file is written under a temporary name and renamed into place; the manifest is
 * written last.
 */
export async function compactAccount(
  outputRoot: string,
  accountId: string,
  parquet: ParquetWriterOptions,
  now: () => number,
  { stateDir, rebuild = false, duckdbMemoryMb = DEFAULT_DUCKDB_MEMORY_MB, signal }: CompactOptions = {},
): Promise<CompactResult> {
  const unsends = stateDir === undefined ? new Map<string, number>() : capturedUnsends(stateDir, accountId);
  const { dir, ids, previous, read, dropped } = await openView(outputRoot, accountId, rebuild);
  const tag = `${process.pid}-${now()}`;
  // One thread: with two, each takes its share of the limit, and folding 786,000 rows (a 400,000-message export and its
  // archive import) failed with "Out of Memory" at 256 MB; with one it took 25 s and 640 MB RSS (README).
  const session = await openDuckDb(outputRoot, String(now()), {
    memoryLimitMb: duckdbMemoryMb,
    threads: 1,
    task: `compacting account ${accountId}`,
  });
  const connection = session.connection;
  const interrupt = (): void => connection.interrupt();
  signal?.addEventListener('abort', interrupt, { once: true });
  try {
    signal?.throwIfAborted();
    const sources = (table: 'messages' | 'conversations'): string =>
      withoutSuperseded(foldSource(outputRoot, accountId, read, previous ? dir : undefined, table));
    await loadSupersededThreads(connection, outputRoot, accountId, ids);
    const messageSource = sources('messages');
    const conversationSource = sources('conversations');
    const bom = await dropsLeadingBom(connection);
    await loadUnsends(connection, unsends);
    const tmpMessages = join(dir, `.messages.parquet.tmp-${tag}`);
    const messages = await copyQuery(
      connection,
      messagesQuery(messageSource, await columnsOf(connection, messageSource), bom),
      tmpMessages,
      MESSAGE_COLUMNS,
      { parquet, signal },
    );
    const tmpConversations = join(dir, `.conversations.parquet.tmp-${tag}`);
    const conversations = await copyQuery(
      connection,
      conversationsQuery(
        conversationSource,
        await columnsOf(connection, conversationSource),
        tmpMessages,
        bom,
      ),
      tmpConversations,
      CONVERSATION_COLUMNS,
      { parquet, signal },
    );
    const files = await publishView(dir, tag, {
      built_at: new Date(now()).toISOString(),
      account_id: accountId,
      snapshot_ids: [...new Set([...(previous?.snapshot_ids ?? []), ...ids])].sort(),
      written: [
        ['messages.parquet', tmpMessages, messages],
        ['conversations.parquet', tmpConversations, conversations],
      ],
    });
    return {
      accountId,
      dir,
      snapshots: ids.length,
      read: read.length,
      carried: previous !== undefined,
      files,
      dropped,
    };
  } catch (e) {
    signal?.throwIfAborted(); // stopped: DuckDB's "Interrupted!" is not the reason
    throw session.explain(e);
  } finally {
    signal?.removeEventListener('abort', interrupt);
    await session.close();
    for (const name of await readdir(dir))
      if (name.includes(`.tmp-${tag}`)) await rm(join(dir, name), { force: true });
  }
}

/**
 * The Parquet files compaction reads hash to what each snapshot's manifest says, and each folder is the snapshot its
 * manifest names, before any row of them is folded: a flipped byte in a snapshot must not enter the view under a fresh
 * manifest that vouches for it, nor a renamed older snapshot win over a newer one. A snapshot whose
 * manifest cannot be read at all is verify's to report, and its rows are kept (as in loadSupersededThreads).
 */
async function refuseAlteredSnapshots(
  outputRoot: string,
  accountId: string,
  ids: readonly string[],
): Promise<void> {
  const read = (['messages', 'conversations'] as const).map((table) => tableFile(table, 'parquet'));
  for (const id of ids) {
    const dir = snapshotDir(outputRoot, accountId, id);
    const manifest = await readManifest(dir).catch(() => undefined);
    if (manifest === undefined) continue;
    const problems = await problemsBeforeReading(dir, manifest, read);
    if (problems.length > 0) throw new SnapshotAlteredError(dir, problems);
  }
}

/**
 * The view folder, made ready: no link, no leftovers, no snapshot altered, and the previous view folded in only when
 * it is what its manifest says (a flipped byte must not be laundered into a fresh manifest). A view whose manifest cannot be read
 * at all is checked (and refused) the same way.
 */
async function openView(
  outputRoot: string,
  accountId: string,
  rebuild: boolean,
): Promise<{
  dir: string;
  ids: string[];
  /** The previous view, when it is folded in: it stands for the snapshots it folded. */
  previous: CurrentViewManifest | undefined;
  /** The snapshots to read: those the previous view has not folded. */
  read: string[];
  dropped: number;
}> {
  refuseLink(accountDirOf(outputRoot, accountId));
  const ids = await snapshotIdsIn(accountDirOf(outputRoot, accountId));
  await refuseAlteredSnapshots(outputRoot, accountId, ids);
  const dir = currentViewDir(outputRoot, accountId);
  refuseLink(dir);
  const found = await readCurrentView(outputRoot, accountId).catch(() => undefined);
  ensureDirSync(dir);
  await removeLeftovers(dir);
  const present = found !== undefined || (await readdir(dir)).some((n) => n.endsWith('.parquet'));
  if (present && !rebuild) {
    const check = await verifyCurrentView(dir);
    if (!check.intact) throw new CurrentViewAlteredError(dir, check.problems);
  }
  const kept = new Set(ids);
  // The previous view holds the best row of every snapshot it folded (the fold keeps each row's snapshot_id, so folding
  // it with the newer snapshots gives what folding them all would): only the snapshots it has not folded are read.
  const carried = async (table: 'messages' | 'conversations'): Promise<boolean> =>
    pathExists(join(dir, tableFile(table, 'parquet')));
  const previous =
    !rebuild && found !== undefined && (await carried('messages')) && (await carried('conversations'))
      ? found
      : undefined;
  const folded = new Set(previous?.snapshot_ids ?? []);
  return {
    dir,
    ids,
    previous,
    read: ids.filter((id) => !folded.has(id)),
    dropped: rebuild ? (found?.snapshot_ids ?? []).filter((id) => !kept.has(id)).length : 0,
  };
}

/**
 * An import keeps the messages of an archive thread it matched to no conversation under the thread's own id,
 * `dyi:<box>/<folder>`. A later import that matches the thread writes them under the conversation: the older rows
 * are then copies, and the view drops them. Loads each such id with the first snapshot that matched its thread.
 */
async function loadSupersededThreads(
  connection: DuckDBConnection,
  outputRoot: string,
  accountId: string,
  ids: readonly string[],
): Promise<void> {
  const matchedIn = new Map<string, string>();
  for (const id of ids) {
    // A damaged manifest is verify's to report; the rows of its snapshot are kept.
    const manifest = await readManifest(snapshotDir(outputRoot, accountId, id)).catch(() => undefined);
    for (const key of manifest?.archive?.matched_threads ?? []) {
      const conversationId = `dyi:${key}`;
      const first = matchedIn.get(conversationId);
      if (first === undefined || id < first) matchedIn.set(conversationId, id);
    }
  }
  await connection.run(
    'CREATE TEMP TABLE superseded (conversation_id VARCHAR PRIMARY KEY, snapshot_id VARCHAR)',
  );
  await insertTuples(
    connection,
    'INSERT INTO superseded VALUES',
    [...matchedIn].map(([conversationId, id]) => `(${sqlString(conversationId)}, ${sqlString(id)})`),
  );
}

/** Runs `insert` (`INSERT INTO t VALUES`) over SQL value tuples, 500 to a statement. */
async function insertTuples(
  connection: DuckDBConnection,
  insert: string,
  tuples: readonly string[],
): Promise<void> {
  for (let i = 0; i < tuples.length; i += 500)
    await connection.run(`${insert} ${tuples.slice(i, i + 500).join(', ')}`);
}

/** A table's rows without those of superseded archive threads written before the import that matched them. */
function withoutSuperseded(source: string): string {
  return `(SELECT * FROM ${source} AS rows WHERE NOT EXISTS (
       SELECT 1 FROM superseded s WHERE s.conversation_id = rows.conversation_id AND rows.snapshot_id < s.snapshot_id))`;
}

async function loadUnsends(connection: DuckDBConnection, unsends: Map<string, number>): Promise<void> {
  await connection.run('CREATE TEMP TABLE unsends (message_id VARCHAR PRIMARY KEY, unsent_ms DOUBLE)');
  await insertTuples(
    connection,
    'INSERT OR IGNORE INTO unsends VALUES',
    [...unsends].map(([mid, ms]) => `(${sqlString(mid)}, ${Number(ms)})`),
  );
}

/**
 * One row per message: the row with the best content (hydrated, then captured, then imported) beats any other, else
 * the latest snapshot's; captured unsends applied.
 */
function messagesQuery(source: string, columns: Set<string>, bom: boolean): string {
  const folded = `SELECT ${MESSAGE_COLUMNS.map((c) => selectColumn(c, columns, '', bom)).join(', ')} FROM ${source}
       QUALIFY row_number() OVER (PARTITION BY message_id ORDER BY ${contentRank}, snapshot_id DESC) = 1`;
  return `SELECT ${MESSAGE_COLUMNS.map((c) =>
    c.name === 'deleted_at' ? 'coalesce(m.deleted_at, u.unsent_ms) AS deleted_at' : `m.${c.name}`,
  ).join(', ')}
       FROM (${folded}) m LEFT JOIN unsends u USING (message_id)
       ORDER BY m.conversation_id, m.created_time DESC, m.message_id`;
}

/** One row per conversation: its latest row, with counts over the current messages (already written). */
function conversationsQuery(
  source: string,
  columns: Set<string>,
  messagesFile: string,
  bom: boolean,
): string {
  return `WITH latest AS (
         SELECT * FROM ${source}
         QUALIFY row_number() OVER (PARTITION BY conversation_id ORDER BY updated_time DESC, snapshot_id DESC) = 1),
       counts AS (
         SELECT conversation_id, count(*) AS n, count(*) FILTER (hydration_status = 'hydrated') AS h
         FROM read_parquet(${sqlString(messagesFile)}) GROUP BY conversation_id)
       SELECT ${CONVERSATION_COLUMNS.map((c) =>
         c.name === 'message_count'
           ? 'coalesce(latest.message_count, counts.n, 0)::INTEGER AS message_count'
           : c.name === 'snapshot_message_rows'
             ? 'coalesce(counts.n, 0)::INTEGER AS snapshot_message_rows'
             : c.name === 'hydrated_count'
               ? 'coalesce(counts.h, 0)::INTEGER AS hydrated_count'
               : selectColumn(c, columns, 'latest.', bom),
       ).join(', ')}
       FROM latest LEFT JOIN counts USING (conversation_id)
       ORDER BY updated_time DESC, conversation_id`;
}

/** What a compaction killed half way left in the view: its temporary files (DuckDB's spill: duckdb-session.ts). */
async function removeLeftovers(dir: string): Promise<void> {
  for (const name of await readdir(dir))
    if (name.startsWith('.') && name.includes('.tmp-')) await rm(join(dir, name), { force: true });
}

/** Streams a query's rows, chunk by chunk, into a Parquet file; returns the row count. A stop ends it at a chunk. */
async function copyQuery(
  connection: DuckDBConnection,
  sql: string,
  path: string,
  columns: readonly Column[],
  { parquet, signal }: { parquet: ParquetWriterOptions; signal: AbortSignal | undefined },
): Promise<number> {
  const writer = createParquetWriter<Record<string, unknown>>(path, columns, parquet);
  try {
    signal?.throwIfAborted();
    const result = await connection.stream(sql);
    for await (const rows of result.yieldRowObjectJs()) {
      signal?.throwIfAborted();
      for (const row of rows) await writer.write(row);
    }
    return (await writer.close()).rows;
  } catch (e) {
    await writer.abort();
    throw e;
  }
}
