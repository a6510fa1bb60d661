import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { TimelineIndex, type ListedConversation } from '../../archive/timeline-match.js';
import type { HydrationStatus } from '../../schema/tables.js';
import { DEFAULT_DUCKDB_MEMORY_MB, openDuckDb } from '../../snapshots/duckdb-session.js';
import { contentRank, sqlString } from '../../snapshots/duckdb-sql.js';
import { pathExists } from '../../output-path.js';
import { accountDir, currentViewDir, snapshotDir, snapshotIdsIn, tableFile } from '../../snapshots/layout.js';

/** One exported conversation, loaded when its archive thread is aligned with it. */
export interface ExportedConversation {
  /** Its complete timeline, newest first. */
  conversation: ListedConversation & { participantId: string | null };
  /** Each listed message's best status so far (hydrated beats captured beats imported beats the rest). */
  statusOf: Map<string, HydrationStatus>;
}

/**
 * What the export already holds of an account, as the import needs it. Only the index by second (what choosing a
 * thread's conversation needs) is in memory for the whole import; a conversation's timeline, ids and statuses are read
 * when its thread is aligned, from a table DuckDB keeps within its memory limit (spilling to disk). Holding every
 * timeline in JavaScript took about 1 KB of heap per message: a 400,000-message account needed a 384 MB heap.
 */
export interface ExportedTimelines {
  /** Which conversations hold a message in each second, each conversation's size, span and participant. */
  index: TimelineIndex;
  conversation(id: string): Promise<ExportedConversation | undefined>;
  /** Synthetic ids of archive messages already kept (`archive_only`). */
  archiveOnly: Set<string>;
  close(): Promise<void>;
}

/** Who each conversation is with, as its latest row says. */
async function participantsOf(
  c: DuckDBConnection,
  conversationFiles: string[],
  source: (list: string[]) => string,
): Promise<Map<string, { id: string | null; username: string | null }>> {
  const people = new Map<string, { id: string | null; username: string | null }>();
  if (conversationFiles.length === 0) return people;
  const reader = await c.runAndReadAll(
    `SELECT conversation_id, participant_id, participant_username FROM ${source(conversationFiles)}
     QUALIFY row_number() OVER (PARTITION BY conversation_id ORDER BY updated_time DESC, snapshot_id DESC) = 1`,
  );
  for (const r of reader.getRowObjectsJS())
    people.set(r['conversation_id'] as string, {
      id: (r['participant_id'] as string | null) ?? null,
      username: (r['participant_username'] as string | null) ?? null,
    });
  return people;
}

/** One conversation's timeline and statuses from the `timelines` table. */
async function readConversation(
  c: DuckDBConnection,
  accountId: string,
  id: string,
  who: { id: string | null; username: string | null } | undefined,
): Promise<ExportedConversation | undefined> {
  const stream = await c.stream(
    `SELECT message_id, sec, position, from_id, hydration_status, message FROM timelines
     WHERE conversation_id = ${sqlString(id)} AND hydration_status <> 'archive_only'
     ORDER BY created_time DESC, position, message_id`,
  );
  const conversation: ExportedConversation['conversation'] = {
    id,
    participantId: who?.id ?? null,
    participantUsername: who?.username ?? null,
    messages: [],
  };
  const statusOf = new Map<string, HydrationStatus>();
  for await (const rows of stream.yieldRowObjectJs())
    for (const r of rows) {
      const messageId = r['message_id'] as string;
      const status = r['hydration_status'] as HydrationStatus;
      statusOf.set(messageId, status);
      const from = (r['from_id'] as string | null) ?? null;
      conversation.messages.push({
        id: messageId,
        createdSec: Number(r['sec']),
        position: Number(r['position']),
        side: from === null ? null : from === accountId ? 'account' : 'participant',
        text:
          status === 'hydrated' || status === 'captured' ? ((r['message'] as string | null) ?? null) : null,
      });
    }
  return conversation.messages.length === 0 ? undefined : { conversation, statusOf };
}

/**
 * Reads the message timelines of every snapshot of the account (and of the current view, which holds the rows of
 * pruned snapshots) with DuckDB, one row per message id, the one with the best content, into a table of the session;
 * the index is built from it. `close` ends the session.
 */
export async function readExportedTimelines(
  outputRoot: string,
  accountId: string,
  /** DuckDB's memory limit in MB: it spills to disk beyond it, and fails when even that is not enough. */
  duckdbMemoryMb = DEFAULT_DUCKDB_MEMORY_MB,
): Promise<ExportedTimelines> {
  const files = async (table: 'messages' | 'conversations'): Promise<string[]> => {
    const ids = await snapshotIdsIn(accountDir(outputRoot, accountId));
    const list = ids.map((id) => join(snapshotDir(outputRoot, accountId, id), tableFile(table, 'parquet')));
    const carried = join(currentViewDir(outputRoot, accountId), tableFile(table, 'parquet'));
    if (await pathExists(carried)) list.push(carried);
    return list;
  };
  const index = new TimelineIndex();
  const archiveOnly = new Set<string>();
  const messageFiles = await files('messages');
  if (messageFiles.length === 0)
    return {
      index,
      archiveOnly,
      conversation: () => Promise.resolve(undefined),
      close: () => Promise.resolve(),
    };
  // Every message of the account, ranked: 64 MB failed at 400,000 messages ("failed to pin block"), spilling or not.
  // A 256 MB limit by default, as compact's, and the spill inside the output.
  const session = await openDuckDb(outputRoot, randomUUID().slice(0, 8), {
    memoryLimitMb: duckdbMemoryMb,
    threads: 1,
    task: `importing the archive of account ${accountId}`,
  });
  const c = session.connection;
  try {
    const source = (list: string[]): string =>
      `read_parquet([${list.map(sqlString).join(', ')}], hive_partitioning = false, union_by_name = true)`;
    const people = await participantsOf(c, await files('conversations'), source);
    await c.run(
      `CREATE TEMP TABLE timelines AS
       SELECT conversation_id, message_id, created_time, epoch(created_time)::BIGINT AS sec, position, from_id,
              hydration_status, message
       FROM ${source(messageFiles)}
       QUALIFY row_number() OVER (PARTITION BY message_id ORDER BY ${contentRank}, snapshot_id DESC) = 1
       ORDER BY conversation_id`,
    );
    const stream = await c.stream(`SELECT conversation_id, message_id, sec, hydration_status FROM timelines`);
    for await (const rows of stream.yieldRowObjectJs())
      for (const r of rows) {
        if (r['hydration_status'] === 'archive_only') archiveOnly.add(r['message_id'] as string);
        else index.add(r['conversation_id'] as string, Number(r['sec']));
      }
    for (const [id, who] of people) index.name(id, who.username);
    return {
      index,
      archiveOnly,
      conversation: (id) =>
        readConversation(c, accountId, id, people.get(id)).catch((e: unknown) => {
          throw session.explain(e);
        }),
      close: () => session.close(),
    };
  } catch (e) {
    await session.close();
    throw session.explain(e);
  }
}
