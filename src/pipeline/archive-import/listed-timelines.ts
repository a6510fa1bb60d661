import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ListedConversation } from '../../archive/timeline-match.js';
import type { HydrationStatus } from '../../schema/tables.js';
import { openDuckDb } from '../../snapshots/duckdb-session.js';
import { contentRank, sqlString } from '../../snapshots/duckdb-sql.js';
import { pathExists } from '../../output-path.js';
import { accountDir, currentViewDir, snapshotDir, snapshotIdsIn, tableFile } from '../../snapshots/layout.js';

/** What the export already holds of an account, as the import needs it. */
export interface ExportedTimelines {
  /** Every listed conversation with its complete timeline (newest first), by id. */
  conversations: Map<string, ListedConversation & { participantId: string | null }>;
  /** Each listed message's best status so far (hydrated beats captured beats imported beats the rest). */
  statusOf: Map<string, HydrationStatus>;
  /** Synthetic ids of archive messages already kept (`archive_only`). */
  archiveOnly: Set<string>;
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

/**
 * Reads the message timelines of every snapshot of the account (and of the current view, which holds the rows of
 * pruned snapshots) with DuckDB: one row per message id, the one with the best content.
 */
export async function readExportedTimelines(
  outputRoot: string,
  accountId: string,
): Promise<ExportedTimelines> {
  const files = async (table: 'messages' | 'conversations'): Promise<string[]> => {
    const ids = await snapshotIdsIn(accountDir(outputRoot, accountId));
    const list = ids.map((id) => join(snapshotDir(outputRoot, accountId, id), tableFile(table, 'parquet')));
    const carried = join(currentViewDir(outputRoot, accountId), tableFile(table, 'parquet'));
    if (await pathExists(carried)) list.push(carried);
    return list;
  };
  const result: ExportedTimelines = { conversations: new Map(), statusOf: new Map(), archiveOnly: new Set() };
  const messageFiles = await files('messages');
  if (messageFiles.length === 0) return result;
  // Every message of the account, ranked and sorted: 64 MB failed at 400,000 messages ("failed to pin block"),
  // spilling or not; 128 MB held. A 256 MB limit, as compact's, and the spill inside the output.
  const session = await openDuckDb(outputRoot, randomUUID().slice(0, 8), {
    memoryLimit: '256MB',
    threads: 1,
  });
  const c = session.connection;
  try {
    const source = (list: string[]): string =>
      `read_parquet([${list.map(sqlString).join(', ')}], hive_partitioning = false, union_by_name = true)`;
    const people = await participantsOf(c, await files('conversations'), source);
    const stream = await c.stream(
      `SELECT conversation_id, message_id, epoch(created_time)::BIGINT AS sec, position, from_id, hydration_status, message
       FROM ${source(messageFiles)}
       QUALIFY row_number() OVER (PARTITION BY message_id ORDER BY ${contentRank}, snapshot_id DESC) = 1
       ORDER BY conversation_id, created_time DESC, position, message_id`,
    );
    for await (const rows of stream.yieldRowObjectJs()) {
      for (const r of rows) {
        const id = r['message_id'] as string;
        const status = r['hydration_status'] as HydrationStatus;
        if (status === 'archive_only') {
          result.archiveOnly.add(id);
          continue;
        }
        result.statusOf.set(id, status);
        const conversationId = r['conversation_id'] as string;
        let conversation = result.conversations.get(conversationId);
        if (!conversation) {
          const who = people.get(conversationId);
          conversation = {
            id: conversationId,
            participantId: who?.id ?? null,
            participantUsername: who?.username ?? null,
            messages: [],
          };
          result.conversations.set(conversationId, conversation);
        }
        const from = (r['from_id'] as string | null) ?? null;
        conversation.messages.push({
          id,
          createdSec: Number(r['sec']),
          position: Number(r['position']),
          side: from === null ? null : from === accountId ? 'account' : 'participant',
          text:
            status === 'hydrated' || status === 'captured' ? ((r['message'] as string | null) ?? null) : null,
        });
      }
    }
    return result;
  } finally {
    await session.close();
  }
}
