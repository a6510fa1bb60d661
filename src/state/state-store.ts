import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ensureDirSync, OutputPathError, refuseLink } from '../output-path.js';
import type { KnownStatus } from '../schema/tables.js';

/**
 * Per-account run state in SQLite (better-sqlite3 12; 13 needs Node 22). It is a cache of what the published
 * snapshots hold — every commit happens after the snapshot it describes was renamed into place — so it can always
 * be rebuilt from the snapshots (see `snapshots/reconcile.ts`). One transaction per commit: a crash leaves the state
 * before or after, never between.
 */

/** How many of a conversation's newest messages are remembered: more than the window, so a page always meets one. */
export const KNOWN_PER_CONVERSATION = 50;

/**
 * The files SQLite may keep beside the database: the rollback journal it uses now, and the WAL and shared-memory
 * files of state written by earlier versions (converted, and removed, on open).
 */
export const STATE_FILE_SUFFIXES = ['', '-journal', '-wal', '-shm'] as const;

export type { KnownStatus };

export interface KnownMessage {
  createdMs: number;
  status: KnownStatus;
}

export interface ConversationState {
  updatedMs: number;
  /** When the conversation was last listed to its known boundary (for message-rate estimates). */
  checkedMs: number;
  /** The last run left something to do here (a failed listing or failed messages). */
  needsRetry: boolean;
  /** Its total number of messages as last listed; undefined when not known (state of an older version). */
  messageTotal: number | undefined;
}

/** What a published snapshot did for one conversation. */
export interface ConversationCommit {
  conversationId: string;
  updatedMs: number;
  checkedMs: number;
  /** Every message id down to the known boundary was listed. */
  complete: boolean;
  /** The conversation's total number of messages as of this listing, when known. */
  messageTotal: number | undefined;
  /** The rows written for it (newest first is not required). */
  messages: Array<{ messageId: string; createdMs: number; status: KnownStatus; position: number }>;
  windowSize: number;
}

/** The next run must look at this conversation again: its listing failed, or a message in the window failed. */
export function needsRetry(c: ConversationCommit): boolean {
  return !c.complete || c.messages.some((m) => m.status === 'failed' && m.position < c.windowSize);
}

export interface AccountState {
  /** Conversations updated before this instant (less the overlap) were all archived when it was set. */
  watermarkMs: number | undefined;
  lastRunStartedMs: number | undefined;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS account (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  watermark_ms INTEGER,
  last_run_started_ms INTEGER
);
CREATE TABLE IF NOT EXISTS conversations (
  conversation_id TEXT PRIMARY KEY,
  updated_ms INTEGER NOT NULL,
  checked_ms INTEGER NOT NULL,
  needs_retry INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS known_messages (
  conversation_id TEXT NOT NULL,
  message_id TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  status TEXT NOT NULL,
  PRIMARY KEY (conversation_id, message_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS snapshots (
  snapshot_id TEXT PRIMARY KEY,
  run_id TEXT NOT NULL,
  committed_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
  run_id TEXT PRIMARY KEY,
  started_ms INTEGER NOT NULL,
  ended_ms INTEGER NOT NULL,
  mode TEXT NOT NULL,
  status TEXT NOT NULL,
  snapshots INTEGER NOT NULL,
  calls INTEGER NOT NULL,
  summary TEXT NOT NULL
);
INSERT OR IGNORE INTO account (id) VALUES (1);
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '1');
`;

/** One run as the state remembers it: every run is recorded, including those that published no snapshot. */
export interface RunRecord {
  runId: string;
  startedMs: number;
  endedMs: number;
  mode: string;
  status: string;
  snapshots: number;
  calls: number;
  /** The run's JSON summary (no secrets: it is built from counts and ids). */
  summary: Record<string, unknown>;
}

/** The state file is not a database SQLite can read (corrupt, or another file): exit 2, with the way out named. */
export class StateFileCorruptError extends Error {
  override name = 'StateFileCorruptError';

  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(
      `the run state ${path} cannot be read (${detail}); run again with --rebuild-state to rebuild it from the ` +
        'published snapshots (nothing published is lost), or move the file away',
    );
  }
}

const SQLITE_AS_ERRNO: Array<[RegExp, string]> = [
  [/^SQLITE_FULL/, 'ENOSPC'],
  [/^SQLITE_READONLY/, 'EROFS'],
  [/^SQLITE_CANTOPEN/, 'EACCES'],
  [/^SQLITE_(IOERR|PROTOCOL)/, 'EIO'],
];

/**
 * A SQLite failure of the state file as what the user can act on: a full disk or an I/O error names the file (exit
 * 8), a corrupt file offers --rebuild-state (exit 2); anything else is left as it is.
 */
export function asStateFileError(e: unknown, path: string): unknown {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return e;
  if (/^SQLITE_(CORRUPT|NOTADB)/.test(code)) return new StateFileCorruptError(path, (e as Error).message);
  const errno = SQLITE_AS_ERRNO.find(([pattern]) => pattern.test(code))?.[1];
  return errno === undefined ? e : new OutputPathError(path, errno, 'write');
}

export class StateStore {
  private constructor(private readonly db: Database.Database) {}

  static open(path: string): StateStore {
    ensureDirSync(dirname(path));
    // SQLite follows links: a planted one would put the state (or its journal) outside the state folder.
    for (const suffix of STATE_FILE_SUFFIXES) refuseLink(`${path}${suffix}`);
    const db = new Database(path);
    // A rollback journal, not WAL: one open file per running account instead of three (WAL keeps -wal and -shm
    // open), which is what lets hundreds of accounts run at once; the journal is open only while a commit writes.
    // Only the run holding the account's lock writes the file, so WAL's concurrent readers buy nothing here. A
    // state file left in WAL mode by an earlier version is checkpointed and converted.
    db.pragma('journal_mode = DELETE');
    db.pragma('synchronous = FULL');
    db.exec(SCHEMA);
    // Added after the first release: state files written before it lack the column.
    const columns = db.prepare('PRAGMA table_info(conversations)').all() as Array<{ name: string }>;
    if (!columns.some((c) => c.name === 'message_total'))
      db.exec('ALTER TABLE conversations ADD COLUMN message_total INTEGER');
    return new StateStore(db);
  }

  account(): AccountState {
    const row = this.db
      .prepare('SELECT watermark_ms, last_run_started_ms FROM account WHERE id = 1')
      .get() as {
      watermark_ms: number | null;
      last_run_started_ms: number | null;
    };
    return {
      watermarkMs: row.watermark_ms ?? undefined,
      lastRunStartedMs: row.last_run_started_ms ?? undefined,
    };
  }

  conversation(conversationId: string): ConversationState | undefined {
    const row = this.db
      .prepare(
        'SELECT updated_ms, checked_ms, needs_retry, message_total FROM conversations WHERE conversation_id = ?',
      )
      .get(conversationId) as
      | { updated_ms: number; checked_ms: number; needs_retry: number; message_total: number | null }
      | undefined;
    return (
      row && {
        updatedMs: row.updated_ms,
        checkedMs: row.checked_ms,
        needsRetry: row.needs_retry === 1,
        messageTotal: row.message_total ?? undefined,
      }
    );
  }

  knownMessages(conversationId: string): Map<string, KnownMessage> {
    const rows = this.db
      .prepare('SELECT message_id, created_ms, status FROM known_messages WHERE conversation_id = ?')
      .all(conversationId) as Array<{ message_id: string; created_ms: number; status: KnownStatus }>;
    return new Map(rows.map((r) => [r.message_id, { createdMs: r.created_ms, status: r.status }]));
  }

  /** How many conversations an earlier snapshot archived (0: nothing to resume from). */
  conversationCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM conversations').get() as { n: number }).n;
  }

  /** The run that published the newest snapshot the state knows, if any. */
  lastSnapshotRunId(): string | undefined {
    const row = this.db
      .prepare('SELECT run_id FROM snapshots ORDER BY committed_ms DESC, snapshot_id DESC LIMIT 1')
      .get() as { run_id: string } | undefined;
    return row?.run_id;
  }

  recordRun(run: RunRecord): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO runs (run_id, started_ms, ended_ms, mode, status, snapshots, calls, summary)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        run.runId,
        run.startedMs,
        run.endedMs,
        run.mode,
        run.status,
        run.snapshots,
        run.calls,
        JSON.stringify(run.summary),
      );
  }

  /** The most recent runs, newest first. */
  runs(limit = 100): RunRecord[] {
    const rows = this.db
      .prepare(
        `SELECT run_id, started_ms, ended_ms, mode, status, snapshots, calls, summary FROM runs
         ORDER BY started_ms DESC LIMIT ?`,
      )
      .all(limit) as Array<{
      run_id: string;
      started_ms: number;
      ended_ms: number;
      mode: string;
      status: string;
      snapshots: number;
      calls: number;
      summary: string;
    }>;
    return rows.map((r) => ({
      runId: r.run_id,
      startedMs: r.started_ms,
      endedMs: r.ended_ms,
      mode: r.mode,
      status: r.status,
      snapshots: r.snapshots,
      calls: r.calls,
      summary: JSON.parse(r.summary) as Record<string, unknown>,
    }));
  }

  hasSnapshot(snapshotId: string): boolean {
    return this.db.prepare('SELECT 1 FROM snapshots WHERE snapshot_id = ?').get(snapshotId) !== undefined;
  }

  /** Records a published snapshot and what it did, in one transaction. */
  commitSnapshot(
    snapshotId: string,
    runId: string,
    commits: readonly ConversationCommit[],
    now: number,
  ): void {
    const upsertConversation = this.db.prepare(`
      INSERT INTO conversations (conversation_id, updated_ms, checked_ms, needs_retry, message_total)
      VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (conversation_id) DO UPDATE SET
        updated_ms = excluded.updated_ms, checked_ms = excluded.checked_ms, needs_retry = excluded.needs_retry,
        message_total = excluded.message_total`);
    const markRetry = this.db.prepare(`
      INSERT INTO conversations (conversation_id, updated_ms, checked_ms, needs_retry) VALUES (?, 0, ?, 1)
      ON CONFLICT (conversation_id) DO UPDATE SET needs_retry = 1`);
    const upsertMessage = this.db.prepare(`
      INSERT INTO known_messages (conversation_id, message_id, created_ms, status) VALUES (?, ?, ?, ?)
      ON CONFLICT (conversation_id, message_id) DO UPDATE SET status = excluded.status`);
    const trim = this.db.prepare(`
      DELETE FROM known_messages WHERE conversation_id = ? AND message_id NOT IN (
        SELECT message_id FROM known_messages WHERE conversation_id = ? ORDER BY created_ms DESC, message_id LIMIT ?)`);
    const recordSnapshot = this.db.prepare(
      'INSERT OR IGNORE INTO snapshots (snapshot_id, run_id, committed_ms) VALUES (?, ?, ?)',
    );
    this.db.transaction(() => {
      for (const c of commits) {
        if (!c.complete) {
          // Its listing did not reach the known boundary: keep the old boundary, do it again next run.
          markRetry.run(c.conversationId, c.checkedMs);
          continue;
        }
        upsertConversation.run(
          c.conversationId,
          c.updatedMs,
          c.checkedMs,
          needsRetry(c) ? 1 : 0,
          c.messageTotal ?? null,
        );
        for (const m of c.messages) upsertMessage.run(c.conversationId, m.messageId, m.createdMs, m.status);
        trim.run(c.conversationId, c.conversationId, KNOWN_PER_CONVERSATION);
      }
      recordSnapshot.run(snapshotId, runId, now);
    })();
  }

  /** At the end of a run: where the next run may stop listing conversations, and when this run started. */
  finishRun(watermarkMs: number | undefined, runStartedMs: number): void {
    this.db
      .prepare(
        `UPDATE account SET watermark_ms = coalesce(?, watermark_ms),
           last_run_started_ms = max(coalesce(last_run_started_ms, 0), ?) WHERE id = 1`,
      )
      .run(watermarkMs ?? null, runStartedMs);
  }

  close(): void {
    this.db.close();
  }
}
