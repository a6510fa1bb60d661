import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ensureDirSync, refuseLink } from '../output-path.js';

/**
 * The webhook spool of one account: every event `ig-export listen` accepted, kept in SQLite (WAL, synchronous=FULL:
 * a commit is on disk before the listener acknowledges the delivery, so an acknowledged event survives a crash).
 * An event is stored once by its key (type and message id, see WebhookEvent.key); Meta's redeliveries and
 * duplicates are ignored. Exports read it to fill message bodies the API can no longer give, and mark what a
 * published snapshot took in; such events are pruned after the retention period, the others never.
 */
export type WebhookEventType = 'message' | 'edit' | 'unsend' | 'reaction' | 'read' | 'unknown';

export interface WebhookEvent {
  /** What makes it unique: `message:<mid>`, `edit:<mid>:<n>`, `unsend:<mid>`, … (see listener/webhook-events). */
  key: string;
  type: WebhookEventType;
  accountId: string;
  mid: string | null;
  senderId: string | null;
  recipientId: string | null;
  /** Meta's event time, epoch ms. */
  timestampMs: number | null;
  text: string | null;
  /** The message's attachments as Meta sent them (JSON text). */
  attachments: string | null;
  replyTo: string | null;
  isEcho: boolean;
  isUnsupported: boolean;
  /** The event object as delivered (JSON text), the entry's id and time included. */
  raw: string;
}

export interface StoredEvent extends WebhookEvent {
  receivedMs: number;
  mergedMs: number | null;
}

/** Where an account's spool lives: beside the run state. */
export function webhookSpoolPath(stateDir: string, accountId: string): string {
  return join(stateDir, 'webhooks', `account=${accountId}.sqlite`);
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  event_key TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  account_id TEXT NOT NULL,
  mid TEXT,
  sender_id TEXT,
  recipient_id TEXT,
  timestamp_ms INTEGER,
  text TEXT,
  attachments TEXT,
  reply_to TEXT,
  is_echo INTEGER NOT NULL,
  is_unsupported INTEGER NOT NULL,
  raw TEXT NOT NULL,
  received_ms INTEGER NOT NULL,
  merged_ms INTEGER
);
CREATE INDEX IF NOT EXISTS events_mid ON events (mid);
CREATE INDEX IF NOT EXISTS events_time ON events (type, timestamp_ms);
`;

interface Row {
  event_key: string;
  type: WebhookEventType;
  account_id: string;
  mid: string | null;
  sender_id: string | null;
  recipient_id: string | null;
  timestamp_ms: number | null;
  text: string | null;
  attachments: string | null;
  reply_to: string | null;
  is_echo: number;
  is_unsupported: number;
  raw: string;
  received_ms: number;
  merged_ms: number | null;
}

function fromRow(r: Row): StoredEvent {
  return {
    key: r.event_key,
    type: r.type,
    accountId: r.account_id,
    mid: r.mid,
    senderId: r.sender_id,
    recipientId: r.recipient_id,
    timestampMs: r.timestamp_ms,
    text: r.text,
    attachments: r.attachments,
    replyTo: r.reply_to,
    isEcho: r.is_echo === 1,
    isUnsupported: r.is_unsupported === 1,
    raw: r.raw,
    receivedMs: r.received_ms,
    mergedMs: r.merged_ms,
  };
}

export class WebhookSpool {
  private constructor(private readonly db: Database.Database) {}

  /** Opens (creating it when asked) the spool at `path`; undefined when it does not exist and `create` is false. */
  static open(path: string, create: boolean): WebhookSpool | undefined {
    if (!create && !existsSync(path)) return undefined;
    ensureDirSync(join(path, '..'));
    for (const suffix of ['', '-wal', '-shm']) refuseLink(`${path}${suffix}`);
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    // The listener writes while an export reads and marks: wait for the other's short transaction.
    db.pragma('busy_timeout = 5000');
    db.exec(SCHEMA);
    return new WebhookSpool(db);
  }

  /**
   * Appends events in one transaction, durable when this returns; returns how many were new (the rest were
   * duplicates of stored ones).
   */
  append(events: readonly WebhookEvent[], receivedMs: number): number {
    const insert = this.db.prepare(
      `INSERT OR IGNORE INTO events (event_key, type, account_id, mid, sender_id, recipient_id, timestamp_ms, text,
         attachments, reply_to, is_echo, is_unsupported, raw, received_ms, merged_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
    );
    return this.db.transaction(() => {
      let added = 0;
      for (const e of events) {
        const result = insert.run(
          e.key,
          e.type,
          e.accountId,
          e.mid,
          e.senderId,
          e.recipientId,
          e.timestampMs,
          e.text,
          e.attachments,
          e.replyTo,
          e.isEcho ? 1 : 0,
          e.isUnsupported ? 1 : 0,
          e.raw,
          receivedMs,
        );
        added += result.changes;
      }
      return added;
    })();
  }

  /** Events of a message id, oldest first. */
  byMid(mid: string): StoredEvent[] {
    return (
      this.db
        .prepare('SELECT * FROM events WHERE mid = ? ORDER BY timestamp_ms, received_ms')
        .all(mid) as Row[]
    ).map(fromRow);
  }

  /** Message events of `type` within [fromMs, toMs]. */
  messagesBetween(fromMs: number, toMs: number): StoredEvent[] {
    return (
      this.db
        .prepare("SELECT * FROM events WHERE type = 'message' AND timestamp_ms BETWEEN ? AND ?")
        .all(fromMs, toMs) as Row[]
    ).map(fromRow);
  }

  /** Message events no published snapshot has taken in yet. */
  pendingMessages(): number {
    const row = this.db
      .prepare("SELECT count(*) AS n FROM events WHERE type = 'message' AND merged_ms IS NULL")
      .get() as { n: number };
    return row.n;
  }

  /** Every message id the spool holds an event of. */
  mids(): Set<string> {
    const rows = this.db.prepare('SELECT DISTINCT mid FROM events WHERE mid IS NOT NULL').all() as Array<{
      mid: string;
    }>;
    return new Set(rows.map((r) => r.mid));
  }

  /** Every captured unsend: the message id and when (its event time, else when it was received). */
  unsends(): Array<{ mid: string; atMs: number }> {
    const rows = this.db
      .prepare(
        "SELECT mid, coalesce(timestamp_ms, received_ms) AS at FROM events WHERE type = 'unsend' AND mid IS NOT NULL",
      )
      .all() as Array<{ mid: string; at: number }>;
    return rows.map((r) => ({ mid: r.mid, atMs: r.at }));
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
  }

  /** Marks every event of these message ids as taken in by a published snapshot. */
  markMerged(mids: Iterable<string>, atMs: number): void {
    const mark = this.db.prepare('UPDATE events SET merged_ms = ? WHERE mid = ? AND merged_ms IS NULL');
    this.db.transaction(() => {
      for (const mid of mids) mark.run(atMs, mid);
    })();
  }

  /** Removes merged events received before `beforeMs`; unmerged ones are kept whatever their age. */
  prune(beforeMs: number): number {
    return this.db.prepare('DELETE FROM events WHERE merged_ms IS NOT NULL AND received_ms < ?').run(beforeMs)
      .changes;
  }

  all(): StoredEvent[] {
    return (this.db.prepare('SELECT * FROM events ORDER BY received_ms').all() as Row[]).map(fromRow);
  }

  close(): void {
    this.db.close();
  }
}

/** The unsends `listen` captured for an account (message id → when), for the current view; empty without a spool. */
export function capturedUnsends(stateDir: string, accountId: string): Map<string, number> {
  const spool = WebhookSpool.open(webhookSpoolPath(stateDir, accountId), false);
  if (!spool) return new Map();
  try {
    return spoolUnsends(spool);
  } finally {
    spool.close();
  }
}

/** A spool's unsends: message id → when. */
export function spoolUnsends(spool: WebhookSpool): Map<string, number> {
  return new Map(spool.unsends().map((u) => [u.mid, u.atMs]));
}
