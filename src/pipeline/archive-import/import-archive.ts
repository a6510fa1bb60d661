import { createHash, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import {
  archiveDigest,
  openDyiArchive,
  type ArchiveMessage,
  type ArchiveProblem,
  type ArchiveThread,
  type DyiArchive,
} from '../../archive/dyi-archive.js';
import { alignMessages, type TimelineIndex, type ListedMessage } from '../../archive/timeline-match.js';
import { CONTENT_PREFERENCE, type MessageRow } from '../../schema/tables.js';
import { accountDir, snapshotIdFor, temporarySnapshotsIn } from '../../snapshots/layout.js';
import {
  emptyCounts,
  zeroByStatus,
  type ConversationAccount,
  type Custody,
  type Manifest,
} from '../../snapshots/manifest.js';
import { renderReport, REPORT_FILE } from '../../snapshots/report.js';
import { unusedSnapshotMs, type SnapshotStore } from '../../snapshots/snapshot-store.js';
import { SnapshotWriter } from '../../snapshots/staged-snapshot.js';
import type { ParquetWriterOptions } from '../../writers/parquet-options.js';
import { ArchiveMedia } from './archive-media.js';
import { readExportedTimelines, type ExportedTimelines } from './listed-timelines.js';

/**
 * `import-dyi`: the account's "Download your information" archive into a snapshot of its own. Threads are matched to
 * exported conversations by timeline and messages paired inside each match (archive/timeline-match.ts); matched
 * messages get the archive's content as `imported` rows under their Graph id, and every other archive message is
 * kept as an `archive_only` row under a stable synthetic id, so nothing of the archive is lost.
 */

export interface ImportOptions {
  store: SnapshotStore;
  accountId: string;
  source: string;
  parquet: ParquetWriterOptions;
  now: () => number;
  custody: Custody;
  toolVersion: string;
  /** Copy the media files messages refer to into the snapshot's `media/` store (else rows keep their archive paths). */
  copyMedia?: boolean;
  /** Stops the import between two threads: nothing is published (the staged snapshot is removed). */
  signal?: AbortSignal | undefined;
  /** DuckDB's memory limit in MB for ranking the exported timelines (default 256). */
  duckdbMemoryMb?: number | undefined;
}

export interface ImportResult {
  status: 'complete' | 'unchanged';
  accountId: string;
  snapshotDir: string | null;
  /** Archive messages paired with a listed message. */
  matched: number;
  /** Archive messages next to listed ones they could not be told apart from (kept as archive_only). */
  ambiguous: number;
  /** Archive messages with no listed message near their time, or in a thread matched to no conversation. */
  unmatched: number;
  threads: { matched: number; unmatched: number };
  /** The archive's threads (`<box>/<folder>`) matched to a conversation. */
  matchedThreads: string[];
  /** Rows the snapshot holds (only what earlier imports and exports did not already give). */
  rows: { imported: number; archive_only: number };
  archive: { fileName: string; bytes: number; sha256: string };
  malformed: ArchiveProblem[];
  /** With `copyMedia`: files copied and references the archive could not serve. */
  media: Manifest['media'];
}

/** Below this share of its messages in the exported timelines, an archive is taken for another account's. */
export const MIN_ARCHIVE_SHARE = 0.1;

/** The archive is another account's: almost none of its messages fall in the exported timelines. */
export class ForeignArchiveError extends Error {
  override name = 'ForeignArchiveError';
}

/** No snapshot of the account has a listed message to match against. */
export class NothingExportedError extends Error {
  override name = 'NothingExportedError';
}

/** The owner's display name: the one participant (nearly) every thread has. Undefined when that is not clear. */
function ownerName(participantsByThread: readonly string[][]): string | undefined {
  if (participantsByThread.length < 2) return undefined;
  const count = new Map<string, number>();
  for (const names of participantsByThread)
    for (const n of new Set(names)) count.set(n, (count.get(n) ?? 0) + 1);
  const [first, second] = [...count].sort((a, b) => b[1] - a[1]);
  if (!first || first[1] < 0.8 * participantsByThread.length) return undefined;
  return second && second[1] === first[1] ? undefined : first[0];
}

/**
 * A synthetic id that stays the same across imports of any archive holding the same message: its conversation (or,
 * in a thread matched to none, the thread's folder), time, sender (by side when known: display names change) and
 * content.
 */
export function archiveMessageId(scope: string, m: Sided): string {
  const key = JSON.stringify([
    scope,
    m.timestampMs,
    m.side ?? m.senderName,
    m.content,
    m.media.map((x) => x.uri),
  ]);
  return `dyi:${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
}

type Sided = ArchiveMessage & { side: 'account' | 'participant' | null };

function row(
  base: Pick<MessageRow, 'account_id' | 'snapshot_id' | 'extracted_at'>,
  m: Sided,
  at: {
    conversationId: string;
    messageId: string;
    position: number;
    createdMs: number;
    participantId: string | null;
  },
  status: 'imported' | 'archive_only',
): MessageRow {
  const other = at.participantId;
  const from = m.side === 'account' ? base.account_id : m.side === 'participant' ? other : null;
  const to = m.side === 'account' ? other : m.side === 'participant' ? base.account_id : null;
  return {
    ...base,
    conversation_id: at.conversationId,
    message_id: at.messageId,
    position: at.position,
    created_time: at.createdMs,
    hydration_status: status,
    from_id: from,
    from_username: null,
    to_id: to,
    to_username: null,
    message: m.content ?? '',
    attachments:
      m.media.length > 0 || m.shareLink !== null
        ? JSON.stringify({
            archive_media: m.media,
            share: m.shareLink === null ? null : { link: m.shareLink },
          })
        : null,
    reactions: m.reactions.length > 0 ? JSON.stringify(m.reactions) : null,
    is_unsupported: false,
    attachment_types: m.media.map((x) => x.kind),
    attachment_urls: m.media.map((x) => x.uri),
    share_links: m.shareLink === null ? [] : [m.shareLink],
    story_type: null,
    story_id: null,
    story_link: null,
    reaction_emojis: m.reactions.map((r) => r.reaction),
    reaction_user_ids: null,
    raw: m.raw,
    source: 'dyi',
    deleted_at: null,
  };
}

interface ThreadPlan {
  key: string;
  conversationId: string | undefined;
  hits: number;
  messages: number;
}

/** Pass 1: each thread's best conversation by timeline; a conversation goes to one thread only (the best hit). */
async function planThreads(
  archive: DyiArchive,
  index: TimelineIndex,
  signal: AbortSignal | undefined,
): Promise<{ plans: ThreadPlan[]; owner: string | undefined }> {
  const plans: ThreadPlan[] = [];
  const participants: string[][] = [];
  for (const key of archive.threadKeys) {
    signal?.throwIfAborted();
    const t = await archive.readThread(key);
    participants.push(t.participants);
    const score = index.score(
      t.messages.map((m) => m.timestampMs),
      t.participants,
    );
    plans.push({ key, conversationId: score.conversationId, hits: score.hits, messages: t.messages.length });
  }
  const claimed = new Set<string>();
  for (const p of [...plans].sort((a, b) => b.hits - a.hits)) {
    if (p.conversationId === undefined) continue;
    if (claimed.has(p.conversationId)) p.conversationId = undefined;
    else claimed.add(p.conversationId);
  }
  return { plans, owner: ownerName(participants) };
}

/** Imports one archive for one account; publishes a snapshot unless the archive was imported before. */
export async function importArchive(o: ImportOptions): Promise<ImportResult> {
  const startedMs = o.now();
  // Opened first: an archive with no thread to import is refused before anything else is looked at.
  const archive = await openDyiArchive(o.source);
  try {
    return await importOpened(o, archive, startedMs);
  } finally {
    archive.close();
  }
}

async function importOpened(o: ImportOptions, archive: DyiArchive, startedMs: number): Promise<ImportResult> {
  // The caller holds the account's lock: what a killed export or import staged is nobody's now.
  for (const dir of await temporarySnapshotsIn(accountDir(o.store.root, o.accountId)))
    await rm(dir, { recursive: true, force: true });
  const digest = await archiveDigest(o.source);
  const base: ImportResult = {
    status: 'unchanged',
    accountId: o.accountId,
    snapshotDir: null,
    matched: 0,
    ambiguous: 0,
    unmatched: 0,
    threads: { matched: 0, unmatched: 0 },
    matchedThreads: [],
    rows: { imported: 0, archive_only: 0 },
    archive: digest,
    malformed: [],
    media: null,
  };
  for (const id of await o.store.list(o.accountId)) {
    const m = await o.store.readManifest(o.accountId, id);
    if (m.mode === 'import' && m.archive?.sha256 === digest.sha256) {
      const a = m.archive;
      return {
        ...base,
        matched: a.messages.matched,
        ambiguous: a.messages.ambiguous,
        unmatched: a.messages.unmatched,
        threads: a.threads,
        matchedThreads: a.matched_threads,
      };
    }
  }
  const exported = await readExportedTimelines(o.store.root, o.accountId, o.duckdbMemoryMb);
  try {
    return await importAgainst(o, archive, exported, base, startedMs);
  } finally {
    await exported.close();
  }
}

async function importAgainst(
  o: ImportOptions,
  archive: DyiArchive,
  exported: ExportedTimelines,
  base: ImportResult,
  startedMs: number,
): Promise<ImportResult> {
  if (exported.index.size === 0)
    throw new NothingExportedError(
      `account ${o.accountId} has no exported messages to match the archive against`,
    );
  const { plans, owner } = await planThreads(archive, exported.index, o.signal);
  const total = plans.reduce((a, p) => a + p.messages, 0);
  const hits = plans.reduce((a, p) => a + (p.conversationId === undefined ? 0 : p.hits), 0);
  if (total > 0 && hits < MIN_ARCHIVE_SHARE * total)
    throw new ForeignArchiveError(
      `only ${hits} of the archive's ${total} messages fall in account ${o.accountId}'s exported timelines: ` +
        "it looks like another account's archive (check --account and the file); nothing was written",
    );
  return writeImport(o, archive, plans, owner, exported, { ...base, status: 'complete' }, startedMs);
}

/** What writing one import snapshot needs at hand, thread after thread. */
interface ImportContext {
  exported: ExportedTimelines;
  owner: string | undefined;
  result: ImportResult;
  write(r: MessageRow, m: ArchiveMessage): Promise<void>;
  rowBase: Pick<MessageRow, 'account_id' | 'snapshot_id' | 'extracted_at'>;
}

/** Archive messages no listed message takes: kept under their synthetic ids, each once across imports. */
async function keepOnly(
  ctx: ImportContext,
  ms: readonly Sided[],
  conversationId: string,
  participantId: string | null,
): Promise<void> {
  for (const m of ms) {
    const id = archiveMessageId(conversationId, m);
    if (ctx.exported.archiveOnly.has(id)) continue;
    ctx.exported.archiveOnly.add(id);
    const at = { conversationId, messageId: id, position: -1, createdMs: m.timestampMs, participantId };
    await ctx.write(row(ctx.rowBase, m, at, 'archive_only'), m);
  }
}

/** Pass 2 for one thread: align it with its conversation (if any) and write what earlier runs did not give. */
async function importThread(ctx: ImportContext, plan: ThreadPlan, thread: ArchiveThread): Promise<void> {
  const { owner, result, exported } = ctx;
  const sided: Sided[] = thread.messages.map((m) => ({
    ...m,
    side:
      owner === undefined || m.senderName === null
        ? null
        : m.senderName === owner
          ? 'account'
          : 'participant',
  }));
  const loaded =
    plan.conversationId === undefined ? undefined : await exported.conversation(plan.conversationId);
  const conversation = loaded?.conversation;
  result.threads[conversation ? 'matched' : 'unmatched']++;
  if (!conversation) {
    result.unmatched += sided.length;
    await keepOnly(ctx, sided, `dyi:${thread.key}`, null);
    return;
  }
  result.matchedThreads.push(thread.key);
  const aligned = alignMessages<Sided>(conversation.messages, sided);
  result.matched += aligned.pairs.length;
  result.ambiguous += aligned.ambiguous.length;
  result.unmatched += aligned.archiveOnly.length;
  for (const { listed, archived } of aligned.pairs) {
    // Content the export or an earlier import already holds is not written again.
    const status = loaded?.statusOf.get(listed.id);
    if (status !== undefined && CONTENT_PREFERENCE.includes(status)) continue;
    const at = importedAt(conversation.id, listed, conversation.participantId);
    await ctx.write(row(ctx.rowBase, archived, at, 'imported'), archived);
  }
  const rest = [...aligned.ambiguous, ...aligned.archiveOnly];
  await keepOnly(ctx, rest, conversation.id, conversation.participantId);
}

/** One conversation's accounting in the manifest, counted as rows are written. */
function tallyRow(accounts: Map<string, ConversationAccount>, r: MessageRow): void {
  const a = accounts.get(r.conversation_id) ?? {
    ...zeroByStatus(),
    conversation_id: r.conversation_id,
    listed: 0,
    rows: 0,
    outside_time_window: 0,
  };
  a.rows++;
  a.listed++;
  if (r.hydration_status === 'imported') a.imported++;
  else a.archive_only++;
  accounts.set(r.conversation_id, a);
}

async function writeImport(
  o: ImportOptions,
  archive: DyiArchive,
  plans: readonly ThreadPlan[],
  owner: string | undefined,
  exported: ExportedTimelines,
  result: ImportResult,
  startedMs: number,
): Promise<ImportResult> {
  const snapshotId = snapshotIdFor(await unusedSnapshotMs(o.store, o.accountId, startedMs));
  const writer = SnapshotWriter.open(o.store, o.accountId, snapshotId, o.parquet, o.copyMedia === true);
  const media = o.copyMedia === true ? new ArchiveMedia(archive, writer.tmpDir) : undefined;
  const accounts = new Map<string, ConversationAccount>();
  const ctx: ImportContext = {
    exported,
    owner,
    result,
    rowBase: { account_id: o.accountId, snapshot_id: snapshotId, extracted_at: startedMs },
    async write(r, m) {
      await writer.writeMessage(r);
      if (media) for (const mediaRow of await media.rowsFor(r, m.media)) await writer.writeMedia(mediaRow);
      tallyRow(accounts, r);
      result.rows[r.hydration_status === 'imported' ? 'imported' : 'archive_only']++;
    },
  };
  try {
    for (const plan of plans) {
      o.signal?.throwIfAborted();
      await importThread(ctx, plan, await archive.readThread(plan.key));
    }
    result.malformed = archive.problems;
    result.media = media?.summary() ?? null;
    const files = { ...(await writer.close()), ...media?.files() };
    const manifest = importManifest(o, snapshotId, startedMs, files, [...accounts.values()], result);
    manifest.files[REPORT_FILE] = await writer.writeFile(REPORT_FILE, renderReport(manifest, new Map()));
    result.snapshotDir = await writer.publish(manifest);
    return result;
  } catch (e) {
    await writer.discard();
    throw e;
  }
}

const importedAt = (conversationId: string, l: ListedMessage, participantId: string | null) => ({
  conversationId,
  messageId: l.id,
  position: l.position,
  createdMs: l.createdSec * 1000,
  participantId,
});

function importManifest(
  o: ImportOptions,
  snapshotId: string,
  startedMs: number,
  files: Manifest['files'],
  conversations: ConversationAccount[],
  r: ImportResult,
): Manifest {
  const started = new Date(startedMs).toISOString();
  const counts = emptyCounts();
  counts.imported = r.rows.imported;
  counts.archive_only = r.rows.archive_only;
  counts.messages = r.rows.imported + r.rows.archive_only;
  return {
    manifest_version: 2,
    status: 'complete',
    stop_reason: null,
    run_id: randomUUID(),
    snapshot_id: snapshotId,
    checkpoint: { index: 0, final: true },
    mode: 'import',
    resumed_from_run_id: null,
    skipped_conversations: 0,
    account_id: o.accountId,
    account_username: null,
    run_started_at: started,
    started_at: started,
    ended_at: new Date(o.now()).toISOString(),
    tool: { name: 'ig-export', version: o.toolVersion },
    api: { base_url: 'none (Download your information archive)', version: 'none' },
    custody: o.custody,
    filters: { user_id: null, since: null, until: null },
    redaction: null,
    window_savings: null,
    options: { source: r.archive.fileName, copy_media: o.copyMedia === true },
    files,
    counts,
    media: r.media,
    conversations,
    calls: { total: 0, by_endpoint: {} },
    retries: { by_kind: {}, failed_calls_by_reason: {} },
    throttles: { count: 0, wait_ms: 0 },
    window_loss: { lost: 0, worst: [], recommended_interval_minutes: null, busiest: [] },
    hydration: null,
    failures_total: 0,
    failures: [],
    archive: {
      file_name: r.archive.fileName,
      bytes: r.archive.bytes,
      sha256: r.archive.sha256,
      threads: r.threads,
      messages: {
        total: r.matched + r.ambiguous + r.unmatched,
        matched: r.matched,
        ambiguous: r.ambiguous,
        unmatched: r.unmatched,
      },
      malformed_files: r.malformed,
      matched_threads: r.matchedThreads,
    },
  };
}
