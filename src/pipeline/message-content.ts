import type { MessageDetail } from '../graph/conversations-api.js';

/**
 * What a message carried besides text, parsed into columns an analyst can filter on. Shapes as Meta documents them
 * (reference/message): `attachments.data[]` with `image_data`/`video_data`/`audio_data` `{url}`, `file_url` or
 * `generic_template.media_url`; `shares.data[].link`; `story.mention|reply_to {id, link}`; `reactions.data[]
 * {reaction, users[]}`. Anything else is kept, unparsed, in `raw`.
 */
export interface MessageContent {
  /** One entry per attachment: image | video | audio | file | template | sticker | unknown. */
  attachment_types: string[];
  /** The attachment's media URL, index-aligned with `attachment_types` (null when it has none). */
  attachment_urls: Array<string | null>;
  share_links: string[];
  story_type: string | null;
  story_id: string | null;
  story_link: string | null;
  /** One entry per (reaction, user): the emoji, and index-aligned the user who reacted. */
  reaction_emojis: string[];
  reaction_user_ids: Array<string | null>;
}

const record = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

const dataOf = (v: unknown): unknown[] => {
  const data = record(v)?.['data'];
  return Array.isArray(data) ? data : [];
};

const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

const urlOf = (v: unknown): string | null => text(record(v)?.['url']);

const MEDIA_KINDS = [
  ['image_data', 'image'],
  ['video_data', 'video'],
  ['audio_data', 'audio'],
] as const;

function attachment(item: unknown): { type: string; url: string | null } {
  const a = record(item) ?? {};
  for (const [key, type] of MEDIA_KINDS) {
    if (a[key] !== undefined) {
      const isSticker = type === 'image' && record(a[key])?.['render_as_sticker'] === true;
      return { type: isSticker ? 'sticker' : type, url: urlOf(a[key]) };
    }
  }
  if (a['file_url'] !== undefined) return { type: 'file', url: text(a['file_url']) };
  if (a['generic_template'] !== undefined)
    return { type: 'template', url: text(record(a['generic_template'])?.['media_url']) };
  return { type: 'unknown', url: null };
}

/** The parsed content columns of a hydrated message. */
export function messageContent(d: MessageDetail): MessageContent {
  const attachments = dataOf(d.attachments).map(attachment);
  const story = record(d.story);
  const storyType = story === undefined ? undefined : Object.keys(story).find((k) => record(story[k]));
  const storyItem = storyType === undefined ? (story ?? {}) : (record(story?.[storyType]) ?? {});
  const reactions = dataOf(d.reactions).flatMap((r) => {
    const emoji = text(record(r)?.['reaction']) ?? '';
    const users = record(r)?.['users'];
    const list = Array.isArray(users) && users.length > 0 ? users : [undefined];
    return list.map((u) => ({ emoji, user: text(record(u)?.['id']) }));
  });
  return {
    attachment_types: attachments.map((a) => a.type),
    attachment_urls: attachments.map((a) => a.url),
    share_links: dataOf(d.shares).flatMap((s) => {
      const link = text(record(s)?.['link']);
      return link === null ? [] : [link];
    }),
    story_type: story === undefined ? null : (storyType ?? 'story'),
    story_id: text(storyItem['id']),
    story_link: text(storyItem['link']),
    reaction_emojis: reactions.map((r) => r.emoji),
    reaction_user_ids: reactions.map((r) => r.user),
  };
}

/** Every media URL a message row carries (attachments, shares, story): what `--download-media` fetches. */
export function mediaUrls(content: {
  attachment_types: ReadonlyArray<string | null> | null;
  attachment_urls: ReadonlyArray<string | null> | null;
  share_links: ReadonlyArray<string | null> | null;
  story_type: string | null;
  story_link: string | null;
}): Array<{ kind: string; url: string }> {
  return [
    ...(content.attachment_urls ?? []).flatMap((url, i) =>
      url === null ? [] : [{ kind: content.attachment_types?.[i] ?? 'unknown', url }],
    ),
    ...(content.share_links ?? []).flatMap((url) => (url === null ? [] : [{ kind: 'share', url }])),
    ...(content.story_link === null
      ? []
      : [{ kind: `story_${content.story_type ?? 'story'}`, url: content.story_link }]),
  ];
}
