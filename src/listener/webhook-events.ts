import { createHash } from 'node:crypto';
import type { WebhookEvent } from '../state/webhook-spool.js';

/**
 * Meta's Instagram messaging notifications, as events to spool. A delivery is
 * `{object: "instagram", entry: [{id: <account id>, time, messaging: [ … ]}]}`; each `messaging` item has `sender.id`,
 * `recipient.id`, `timestamp` (ms) and one of:
 * - `message: {mid, text?, attachments?, reply_to?, is_echo?, is_unsupported?}` — a message (an echo when the
 *   account sent it); `message: {mid, is_deleted: true}` — an unsend;
 * - `message_edit: {mid, text, num_edit}` — an edit;
 * - `reaction: {mid, action: "react" | "unreact", reaction?, emoji?}` — a reaction;
 * - `read: {mid}` — a read receipt (`messaging_seen`).
 * Anything else (another object, a `changes` entry, a new event kind) is kept raw as `unknown`, never refused.
 * Sources: developers.facebook.com/docs/instagram-platform/webhooks/examples and
 * developers.facebook.com/docs/instagram-messaging/webhooks.
 */
type Json = Record<string, unknown>;

const obj = (v: unknown): Json | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const idOf = (v: unknown): string | null => {
  const id = obj(v)?.['id'];
  return typeof id === 'string' ? id : typeof id === 'number' ? String(id) : null;
};

/** An event with nothing but its identity and raw payload; the parsers below fill in what they read. */
export function blankEvent(
  accountId: string,
  key: string,
  type: WebhookEvent['type'],
  raw: string,
): WebhookEvent {
  return {
    key,
    type,
    accountId,
    mid: null,
    senderId: null,
    recipientId: null,
    timestampMs: null,
    text: null,
    attachments: null,
    replyTo: null,
    isEcho: false,
    isUnsupported: false,
    raw,
  };
}

function unknownEvent(accountId: string, raw: unknown): WebhookEvent {
  const text = JSON.stringify(raw);
  return blankEvent(
    accountId,
    `unknown:${createHash('sha256').update(text).digest('hex').slice(0, 32)}`,
    'unknown',
    text,
  );
}

function messagingEvent(accountId: string, entry: Json, item: Json): WebhookEvent {
  const base = {
    accountId,
    senderId: idOf(item['sender']),
    recipientId: idOf(item['recipient']),
    timestampMs: typeof item['timestamp'] === 'number' ? item['timestamp'] : null,
    text: null,
    attachments: null,
    replyTo: null,
    isEcho: false,
    isUnsupported: false,
    raw: JSON.stringify({ entry_id: entry['id'] ?? null, entry_time: entry['time'] ?? null, ...item }),
  };
  const message = obj(item['message']);
  const mid = str(message?.['mid']);
  if (message && mid !== null) {
    if (message['is_deleted'] === true) return { ...base, key: `unsend:${mid}`, type: 'unsend', mid };
    const replyTo = obj(message['reply_to']);
    return {
      ...base,
      key: `message:${mid}`,
      type: 'message',
      mid,
      text: typeof message['text'] === 'string' ? message['text'] : null,
      attachments: message['attachments'] === undefined ? null : JSON.stringify(message['attachments']),
      replyTo: str(replyTo?.['mid']) ?? (replyTo ? JSON.stringify(replyTo) : null),
      isEcho: message['is_echo'] === true,
      isUnsupported: message['is_unsupported'] === true,
    };
  }
  const edit = obj(item['message_edit']);
  const editMid = str(edit?.['mid']);
  if (edit && editMid !== null) {
    const n = typeof edit['num_edit'] === 'number' ? edit['num_edit'] : (base.timestampMs ?? 0);
    return {
      ...base,
      key: `edit:${editMid}:${n}`,
      type: 'edit',
      mid: editMid,
      text: typeof edit['text'] === 'string' ? edit['text'] : null,
    };
  }
  const reaction = obj(item['reaction']);
  const reactionMid = str(reaction?.['mid']);
  if (reaction && reactionMid !== null) {
    const action = str(reaction['action']) ?? 'react';
    return {
      ...base,
      key: `reaction:${reactionMid}:${base.senderId ?? ''}:${action}:${base.timestampMs ?? ''}`,
      type: 'reaction',
      mid: reactionMid,
      text: str(reaction['emoji']) ?? str(reaction['reaction']),
    };
  }
  const read = obj(item['read']);
  const readMid = str(read?.['mid']);
  if (read && readMid !== null)
    return { ...base, key: `read:${readMid}:${base.timestampMs ?? ''}`, type: 'read', mid: readMid };
  return unknownEvent(accountId, { entry_id: entry['id'] ?? null, ...item });
}

/** The events of one delivery, grouped by account id (`entry.id`; `unknown` when a delivery names none). */
export function eventsOfDelivery(payload: unknown): Map<string, WebhookEvent[]> {
  const byAccount = new Map<string, WebhookEvent[]>();
  const add = (accountId: string, e: WebhookEvent): void => {
    const list = byAccount.get(accountId);
    if (list) list.push(e);
    else byAccount.set(accountId, [e]);
  };
  const body = obj(payload);
  const entries = Array.isArray(body?.['entry']) ? (body['entry'] as unknown[]) : undefined;
  if (body?.['object'] !== 'instagram' || entries === undefined) {
    add('unknown', unknownEvent('unknown', payload));
    return byAccount;
  }
  for (const e of entries) {
    const entry = obj(e);
    // The id names the spool file: digits only, whatever a payload says.
    const id = idOf(entry);
    const accountId = id !== null && /^\d{1,30}$/.test(id) ? id : 'unknown';
    const messaging = Array.isArray(entry?.['messaging']) ? (entry['messaging'] as unknown[]) : undefined;
    if (!entry || messaging === undefined) {
      add(accountId, unknownEvent(accountId, e));
      continue;
    }
    for (const item of messaging) {
      const m = obj(item);
      add(accountId, m ? messagingEvent(accountId, entry, m) : unknownEvent(accountId, item));
    }
  }
  return byAccount;
}
