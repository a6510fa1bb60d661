import type { HydrationOutcome, MessageDetail } from '../graph/conversations-api.js';
import {
  ContractError,
  conversationItemSchema,
  messageListItemSchema,
  parseWire,
} from '../graph/wire-shapes.js';
import type { ConversationRow, MessageRow } from '../schema/tables.js';
import { parseGraphTime } from './graph-time.js';
import { messageContent } from './message-content.js';
import type { CapturedContent } from './extensions/captured-messages.js';
import type { ListedConversation, ListedMessage, RowContext } from './types.js';

/** Pure mapping from Graph shapes to flat, typed rows. No I/O. */

export function toListedConversation(
  item: unknown,
  accountId: string,
): Pick<ListedConversation, 'id' | 'updatedMs' | 'participant'> {
  const c = parseWire(conversationItemSchema, item, 'conversation');
  const updatedMs = parseGraphTime(c.updated_time);
  if (updatedMs === undefined)
    throw new ContractError(`conversation ${c.id} has no readable updated_time (${String(c.updated_time)})`);
  const other = (c.participants?.data ?? []).find((p) => p.id !== undefined && p.id !== accountId);
  return {
    id: c.id,
    updatedMs,
    participant: other?.id === undefined ? undefined : { id: other.id, username: other.username },
  };
}

/** Called for a listed conversation whose shape is wrong: it is skipped, and the run records why. */
export type OnMalformed = (error: ContractError) => void;

/** A listed conversation, or undefined (reported to `onMalformed`) when its shape is wrong. */
export function listedOrMalformed(
  item: unknown,
  accountId: string,
  onMalformed: OnMalformed,
): Pick<ListedConversation, 'id' | 'updatedMs' | 'participant'> | undefined {
  try {
    return toListedConversation(item, accountId);
  } catch (e) {
    if (!(e instanceof ContractError)) throw e;
    onMalformed(e);
    return undefined;
  }
}

export function toListedMessage(item: unknown, position: number, conversationId: string): ListedMessage {
  const m = parseWire(messageListItemSchema, item, `a message listed in conversation ${conversationId}:`);
  const createdMs = parseGraphTime(m.created_time);
  if (createdMs === undefined) {
    throw new ContractError(`message ${m.id} has no readable created_time (${String(m.created_time)})`);
  }
  return { id: m.id, createdMs, position, raw: m };
}

function json(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}

function attachmentsOf(d: MessageDetail): string | null {
  const carried: Record<string, unknown> = {};
  if (d.attachments !== undefined) carried['attachments'] = d.attachments;
  if (d.shares !== undefined) carried['shares'] = d.shares;
  if (d.story !== undefined) carried['story'] = d.story;
  return Object.keys(carried).length === 0 ? null : JSON.stringify(carried);
}

/** What became of a listed message: read from the API, filled from a captured webhook, or neither. */
export type RowOutcome =
  HydrationOutcome | { status: 'outside_window' } | { status: 'captured'; captured: CapturedContent };

/** A captured unsend of the message: when, and whether the user asked to drop the content (--honour-unsends). */
export interface Unsend {
  deletedAtMs: number;
  honour: boolean;
}

/** The columns of a message captured by webhook: Meta's `attachments[]{type, payload{url}}` shape. */
function capturedColumns(c: CapturedContent): Partial<MessageRow> {
  const e = c.event;
  const attachments = e.attachments === null ? [] : (JSON.parse(e.attachments) as unknown);
  const list = Array.isArray(attachments) ? (attachments as unknown[]) : [];
  const item = (a: unknown): Record<string, unknown> =>
    typeof a === 'object' && a !== null ? (a as Record<string, unknown>) : {};
  const url = (a: unknown): string | null => {
    const u = item(item(a)['payload'])['url'];
    return typeof u === 'string' ? u : null;
  };
  return {
    from_id: e.senderId,
    to_id: e.recipientId,
    message: c.text ?? '',
    attachments: list.length === 0 ? null : JSON.stringify({ attachments: list }),
    is_unsupported: e.isUnsupported,
    attachment_types: list.map((a) => {
      const t = item(a)['type'];
      return typeof t === 'string' ? t : 'unknown';
    }),
    attachment_urls: list.map(url),
    share_links: [],
    reaction_emojis: [],
    reaction_user_ids: [],
    raw: JSON.parse(e.raw) as Record<string, unknown>,
    source: 'webhook',
  };
}

export function toMessageRow(
  ctx: RowContext,
  conversationId: string,
  listed: ListedMessage,
  outcome: RowOutcome,
  extractedAt: number,
  unsend?: Unsend,
): MessageRow {
  const base: MessageRow = {
    account_id: ctx.accountId,
    conversation_id: conversationId,
    message_id: listed.id,
    position: listed.position,
    created_time: listed.createdMs,
    hydration_status: outcome.status,
    from_id: null,
    from_username: null,
    to_id: null,
    to_username: null,
    message: null,
    attachments: null,
    reactions: null,
    is_unsupported: null,
    attachment_types: null,
    attachment_urls: null,
    share_links: null,
    story_type: null,
    story_id: null,
    story_link: null,
    reaction_emojis: null,
    reaction_user_ids: null,
    raw: listed.raw,
    source: null,
    deleted_at: unsend?.deletedAtMs ?? null,
    snapshot_id: ctx.snapshotId,
    extracted_at: extractedAt,
  };
  if (unsend?.honour) return base;
  if (outcome.status === 'captured') return { ...base, ...capturedColumns(outcome.captured) };
  if (outcome.status !== 'hydrated') return base;
  const d = outcome.detail;
  const to = d.to?.data?.[0];
  return {
    ...base,
    from_id: d.from?.id ?? null,
    from_username: d.from?.username ?? null,
    to_id: to?.id ?? null,
    to_username: to?.username ?? null,
    message: typeof d.message === 'string' ? d.message : '',
    attachments: attachmentsOf(d),
    reactions: json(d.reactions),
    is_unsupported: d.is_unsupported === true,
    ...messageContent(d),
    raw: d,
    source: 'api',
  };
}

export function toConversationRow(
  ctx: RowContext,
  conversation: ListedConversation,
  counts: { messages: number; hydrated: number; total: number | null },
  extractedAt: number,
): ConversationRow {
  return {
    account_id: ctx.accountId,
    conversation_id: conversation.id,
    updated_time: conversation.updatedMs,
    message_count: counts.total,
    snapshot_message_rows: counts.messages,
    hydrated_count: counts.hydrated,
    participant_id: conversation.participant?.id ?? null,
    participant_username: conversation.participant?.username ?? null,
    snapshot_id: ctx.snapshotId,
    extracted_at: extractedAt,
  };
}
