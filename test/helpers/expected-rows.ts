import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Sandbox } from '../../src/sandbox/create-sandbox.js';

/**
 * What an export of the sandbox must contain, computed straight from the sandbox's own data (not through the
 * pipeline's transform code), without the per-run columns snapshot_id and extracted_at. By default a message was
 * readable when it is among the 20 most recent now; `readable` says otherwise for archives built over several runs.
 */
export function expectedMessageRows(
  sandbox: Sandbox,
  readable: (messageId: string, position: number) => boolean = (_id, position) => position < 20,
): Array<Record<string, unknown>> {
  const accountId = sandbox.data.account.userId;
  const rows: Array<Record<string, unknown>> = [];
  for (const c of sandbox.data.conversations) {
    c.messages.forEach((m, position) => {
      const status = !readable(m.id, position) ? 'outside_window' : m.unsent ? 'unavailable' : 'hydrated';
      const hydrated = status === 'hydrated';
      const carried: Record<string, unknown> = {};
      if (m.attachments) carried['attachments'] = m.attachments;
      if (m.shares) carried['shares'] = m.shares;
      if (m.story) carried['story'] = m.story;
      rows.push({
        account_id: accountId,
        conversation_id: c.id,
        message_id: m.id,
        position,
        created_time: new Date(m.createdMs).toISOString(),
        hydration_status: status,
        from_id: hydrated ? m.from.id : null,
        from_username: hydrated ? (m.from.username ?? null) : null,
        to_id: hydrated ? m.to.id : null,
        to_username: hydrated ? (m.to.username ?? null) : null,
        message: hydrated ? m.text : null,
        attachments: hydrated && Object.keys(carried).length > 0 ? JSON.stringify(carried) : null,
        reactions: hydrated && m.reactions ? JSON.stringify(m.reactions) : null,
        is_unsupported: hydrated ? m.isUnsupported === true : null,
        // The sandbox sends images and videos only.
        attachment_types: hydrated
          ? (m.attachments?.data ?? []).map((a) => ('video_data' in a ? 'video' : 'image'))
          : null,
        attachment_urls: hydrated
          ? (m.attachments?.data ?? [])
              .map((a) => (a['video_data'] ?? a['image_data']) as { url: string })
              .map((d) => d.url)
          : null,
        share_links: hydrated ? (m.shares?.data ?? []).map((s) => s.link) : null,
        story_type: hydrated && m.story ? Object.keys(m.story)[0]! : null,
        story_id: hydrated && m.story ? Object.values(m.story)[0]!.id : null,
        story_link: hydrated && m.story ? Object.values(m.story)[0]!.link : null,
        reaction_emojis: hydrated
          ? (m.reactions?.data ?? []).flatMap((r) => r.users.map(() => r.reaction))
          : null,
        reaction_user_ids: hydrated
          ? (m.reactions?.data ?? []).flatMap((r) => r.users.map((u) => u.id))
          : null,
        source: hydrated ? 'api' : null,
        deleted_at: null,
      });
    });
  }
  return rows.map(parseJsonColumns);
}

export function expectedConversationRows(sandbox: Sandbox, windowSize = 20): Array<Record<string, unknown>> {
  return sandbox.data.conversations
    .filter((c) => c.messages.length > 0)
    .map((c) => ({
      account_id: sandbox.data.account.userId,
      conversation_id: c.id,
      updated_time: new Date(c.messages[0]!.createdMs).toISOString(),
      message_count: c.messages.length,
      snapshot_message_rows: c.messages.length,
      hydrated_count: c.messages.slice(0, windowSize).filter((m) => !m.unsent).length,
      participant_id: c.participant.id,
      participant_username: c.participant.username ?? null,
    }));
}

export async function readNdjson(path: string): Promise<Array<Record<string, unknown>>> {
  const text = await readFile(path, 'utf8');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Drops the per-run columns and parses the JSON-text columns, so key order inside them does not matter. */
export function withoutRunColumns(rows: Array<Record<string, unknown>>): Array<Record<string, unknown>> {
  return rows.map(({ snapshot_id: _s, extracted_at: _e, ...rest }) => parseJsonColumns(rest));
}

/**
 * Parses the JSON-text columns and checks `raw` against the row's own columns (the API's object: its id, and when
 * hydrated its sender and text), then drops it: the sandbox's rendering of a message is not recomputed here.
 */
export function parseJsonColumns(row: Record<string, unknown>): Record<string, unknown> {
  const { raw: rawValue, ...out } = row;
  for (const k of ['attachments', 'reactions']) {
    if (typeof out[k] === 'string') out[k] = JSON.parse(out[k]);
  }
  if (rawValue !== undefined) {
    const raw = (typeof rawValue === 'string' ? JSON.parse(rawValue) : rawValue) as Record<string, unknown>;
    expect(raw['id']).toBe(row['message_id']);
    if (row['hydration_status'] === 'hydrated') {
      expect((raw['from'] as { id: string }).id).toBe(row['from_id']);
      expect(raw['message'] ?? '').toBe(row['message']);
    } else {
      expect(Object.keys(raw).sort()).toEqual(['created_time', 'id']);
    }
  }
  return out;
}

/** Asserts that a snapshot holds exactly the sandbox: every conversation, every message id, every hydrated field. */
export async function expectSnapshotEqualsSandbox(
  snapshotDir: string,
  sandbox: Sandbox,
): Promise<Array<Record<string, unknown>>> {
  const messages = await readNdjson(join(snapshotDir, 'messages.ndjson'));
  expect(byKey(withoutRunColumns(messages), 'message_id')).toEqual(
    byKey(expectedMessageRows(sandbox), 'message_id'),
  );
  const conversations = await readNdjson(join(snapshotDir, 'conversations.ndjson'));
  expect(byKey(withoutRunColumns(conversations), 'conversation_id')).toEqual(
    byKey(expectedConversationRows(sandbox), 'conversation_id'),
  );
  return messages;
}

/** Sorted by a key so comparisons do not depend on the order concurrent stages finished in. */
export function byKey<T extends Record<string, unknown>>(rows: T[], key: string): T[] {
  return [...rows].sort((a, b) => String(a[key]).localeCompare(String(b[key])));
}
