import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import type { Dataset, SandboxConversation, SandboxMessage, SandboxUser } from '../dataset.js';

/**
 * The sandbox's own "Download your information" archive (format JSON), written as Instagram writes one, of the
 * sandbox's data: thread folders `<slug>_<digits>` under `your_instagram_activity/messages/inbox/` (or `messages/inbox/`
 * for the older layout) and `message_requests/`, `message_1.json`, `message_2.json`, … newest first, every string in
 * Meta's broken encoding (each UTF-8 byte as a `\u00XX` escape), people by display name only (two of them share
 * one), millisecond timestamps, unsent messages absent, a few messages missing and a few older ones only the archive
 * has. Shares no code with the importer: it is the other side.
 */
export interface DyiArchiveOptions {
  /** Messages per `message_N.json` (Meta's is larger; small here so that split files appear). */
  splitEvery: number;
  /** Share of messages the archive leaves out (deterministic by id). */
  missingShare: number;
  /** Every n-th conversation gets two messages older than anything the API lists. */
  olderEvery: number;
  /** Added to every timestamp: plays a clock a second apart from Graph's (the ±1 s guess). */
  clockSkewMs: number;
  layout: 'current' | 'legacy';
}

export const DEFAULT_DYI_ARCHIVE: DyiArchiveOptions = {
  splitEvery: 200,
  missingShare: 0.004,
  olderEvery: 7,
  clockSkewMs: 0,
  layout: 'current',
};

const FIRST = [
  'Ana',
  'Bruno',
  'Chloé',
  'Dmitri',
  'Émilie',
  'Farah',
  'Giulia',
  'Hiro',
  'Inès',
  'João',
  'Kai',
  'Léa',
];
const LAST = [
  'Silva',
  'Müller',
  'Nguyễn',
  'Kowalski',
  'Okafor',
  'García',
  'Rossi',
  'Yılmaz',
  'Dubois',
  'Sato',
];

const hashOf = (s: string): number => createHash('sha256').update(s).digest().readUInt32BE(0);

const displayName = (u: SandboxUser): string => {
  const h = hashOf(u.id);
  return `${FIRST[h % FIRST.length]!} ${LAST[(h >>> 8) % LAST.length]!} ✨`;
};

const ownerName = (username: string): string =>
  username
    .split(/[^a-zA-Z0-9]+/)
    .filter((w) => w !== '')
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join(' ') || username;

const slug = (name: string): string =>
  name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');

/** When the message was sent, to the millisecond: its burst time, or its Graph second plus a fixed offset. */
const sentMs = (m: SandboxMessage): number => m.sentMs ?? m.createdMs + (hashOf(`ms:${m.id}`) % 1000);

/** Meta's encoding: each UTF-8 byte of every non-ASCII character as its own `\u00XX` escape. */
export function metaJson(value: unknown): string {
  // eslint-disable-next-line no-control-regex
  return JSON.stringify(value, null, 2).replace(/[^\x00-\x7f]+/g, (chars) =>
    [...Buffer.from(chars, 'utf8')].map((b) => `\\u00${b.toString(16).padStart(2, '0')}`).join(''),
  );
}

/** A media file of the archive: fake bytes, distinct per message (one in ten is left out, as a broken download). */
type MediaFiles = Array<{ uri: string; bytes: Buffer }>;

function archiveMessage(
  m: SandboxMessage,
  names: Map<string, string>,
  folder: string,
  skewMs: number,
  media: MediaFiles,
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    sender_name: names.get(m.from.id) ?? m.from.id,
    timestamp_ms: sentMs(m) + skewMs,
  };
  if (m.text !== '') out['content'] = m.text;
  const photos: unknown[] = [];
  const videos: unknown[] = [];
  for (const a of m.attachments?.data ?? []) {
    const uri = `${folder}/${'video_data' in a ? 'videos' : 'photos'}/${hashOf(m.id)}.${'video_data' in a ? 'mp4' : 'jpg'}`;
    ('video_data' in a ? videos : photos).push({ uri, creation_timestamp: Math.floor(m.createdMs / 1000) });
    if (hashOf(`file:${m.id}`) % 10 !== 0)
      media.push({ uri, bytes: Buffer.from(`sandbox media of ${m.id}`) });
  }
  if (photos.length > 0) out['photos'] = photos;
  if (videos.length > 0) out['videos'] = videos;
  const share = m.shares?.data[0];
  if (share) out['share'] = { link: share.link };
  const reactions = (m.reactions?.data ?? []).flatMap((r) =>
    r.users.map((u) => ({ reaction: r.reaction, actor: names.get(u.id) ?? u.id })),
  );
  if (reactions.length > 0) out['reactions'] = reactions;
  out['is_geoblocked_for_viewer'] = false;
  return out;
}

/** Two messages older than the conversation's oldest listed one: only the archive has them. */
function olderMessages(
  c: SandboxConversation,
  names: Map<string, string>,
  skewMs: number,
): Record<string, unknown>[] {
  const oldest = c.messages[c.messages.length - 1];
  if (!oldest) return [];
  return [1, 2].map((k) => ({
    sender_name: names.get(c.participant.id) ?? c.participant.id,
    timestamp_ms: oldest.createdMs - k * 3_600_000 + 123 + skewMs,
    content: `older than the listing (${k}) — 👋`,
    is_geoblocked_for_viewer: false,
  }));
}

/** The two conversations whose people share a display name in the archive. */
export function sameNamePair(data: Dataset): SandboxConversation[] {
  return [...data.conversations].sort((a, b) => b.messages.length - a.messages.length).slice(0, 2);
}

/** Writes the archive of `data` to `path` (a zip); returns how many messages it holds. */
export async function writeDyiArchive(
  data: Dataset,
  path: string,
  options: DyiArchiveOptions = DEFAULT_DYI_ARCHIVE,
): Promise<{ threads: number; messages: number }> {
  const zip = new yazl.ZipFile();
  const owner = ownerName(data.account.username);
  const names = new Map<string, string>([[data.account.userId, owner]]);
  data.conversations.forEach((c) => names.set(c.participant.id, displayName(c.participant)));
  // Two people with the same display name, each in a conversation of their own: the two longest, so that both
  // have messages beyond the window for the import to place.
  const [first, second] = sameNamePair(data);
  if (first && second) names.set(second.participant.id, names.get(first.participant.id)!);
  const root = options.layout === 'current' ? 'your_instagram_activity/messages' : 'messages';
  const mtime = new Date(Date.UTC(2026, 0, 1));
  let total = 0;
  const media: MediaFiles = [];
  data.conversations.forEach((c, i) => {
    const name = names.get(c.participant.id)!;
    const box = hashOf(`box:${c.id}`) % 10 === 0 ? 'message_requests' : 'inbox';
    const folder = `${root}/${box}/${slug(name) || 'instagramuser'}_${1_000_000_000 + (hashOf(c.id) % 8_999_999_999)}`;
    const kept = c.messages.filter(
      (m) =>
        !m.unsent && (m.sentMs !== undefined || hashOf(`drop:${m.id}`) / 2 ** 32 >= options.missingShare),
    );
    const messages = [
      ...kept.map((m) => archiveMessage(m, names, folder, options.clockSkewMs, media)),
      ...(i % options.olderEvery === 0 ? olderMessages(c, names, options.clockSkewMs) : []),
    ];
    total += messages.length;
    for (let part = 0; part * options.splitEvery < Math.max(1, messages.length); part++) {
      const file = {
        participants: [{ name }, { name: owner }],
        messages: messages.slice(part * options.splitEvery, (part + 1) * options.splitEvery),
        title: name,
        is_still_participant: true,
        thread_path: `${box}/${folder.split('/').pop()!}`,
        magic_words: [],
      };
      zip.addBuffer(Buffer.from(metaJson(file)), `${folder}/message_${part + 1}.json`, { mtime });
    }
  });
  for (const f of media) zip.addBuffer(f.bytes, f.uri, { mtime });
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(path, { flags: 'wx' }));
  return { threads: data.conversations.length, messages: total };
}
