/**
 * The output schema, defined once. NDJSON rows, the Parquet schema, the README column table and
 * `ig-export schema` are all derived from these lists.
 */
/**
 * `string_list` is a Parquet LIST of UTF-8 strings (a JSON array in NDJSON); `json` is an object, written as JSON text
 * in Parquet and as the object itself in NDJSON.
 */
export type ColumnType = 'string' | 'int32' | 'boolean' | 'timestamp' | 'string_list' | 'json';

export interface Column {
  readonly name: string;
  readonly type: ColumnType;
  readonly nullable: boolean;
  readonly description: string;
  /**
   * Its values rarely repeat (ids, the raw JSON): Parquet writes it without a dictionary, which the encoder would
   * otherwise build for every row group only to give it up, and whose memory it keeps.
   */
  readonly distinct?: true;
}

/** Columns both tables carry. */
const ACCOUNT_ID = {
  name: 'account_id',
  type: 'string',
  nullable: false,
  description: "Instagram professional account id (user_id of /me, the id in messages' from/to).",
} as const satisfies Column;

const SNAPSHOT_ID = {
  name: 'snapshot_id',
  type: 'string',
  nullable: false,
  description: 'The snapshot (run) that wrote the row.',
} as const satisfies Column;

export const MESSAGE_COLUMNS = [
  ACCOUNT_ID,
  { name: 'conversation_id', type: 'string', nullable: false, description: 'Opaque Graph conversation id.' },
  {
    name: 'message_id',
    type: 'string',
    nullable: false,
    description: 'Opaque Graph message id; unique within a snapshot.',
    distinct: true,
  },
  {
    name: 'position',
    type: 'int32',
    nullable: false,
    description:
      'Rank in the conversation when listed, 0 = newest. Only positions 0–19 can be hydrated. -1 for archive_only rows (never listed).',
  },
  {
    name: 'created_time',
    type: 'timestamp',
    nullable: false,
    description: 'When the message was sent (UTC; Parquet TIMESTAMP(ms, UTC), NDJSON ISO-8601 Z).',
  },
  {
    name: 'hydration_status',
    type: 'string',
    nullable: false,
    description:
      'hydrated | captured (the API could not give it; its content came from a webhook `listen` stored) | imported (its content came from the account\'s "Download your information" archive, `import-dyi`) | archive_only (in that archive, matched to no listed message; its id is synthetic, dyi:…) | outside_window (never readable: beyond the 20 most recent, and not captured) | unavailable (API said deleted) | failed (gave up after retries).',
  },
  {
    name: 'from_id',
    type: 'string',
    nullable: true,
    description: 'Sender id (IGSID or the account id); null unless hydrated.',
  },
  {
    name: 'from_username',
    type: 'string',
    nullable: true,
    description: 'Sender username; null when not hydrated or when Meta omits it.',
  },
  { name: 'to_id', type: 'string', nullable: true, description: 'Recipient id; null unless hydrated.' },
  {
    name: 'to_username',
    type: 'string',
    nullable: true,
    description: 'Recipient username; null when not hydrated or omitted.',
  },
  {
    name: 'message',
    type: 'string',
    nullable: true,
    description: 'Text; "" when hydrated without text (shares, media, story mentions); null unless hydrated.',
  },
  {
    name: 'attachments',
    type: 'string',
    nullable: true,
    description: 'JSON text {attachments, shares, story} of what the message carried, or null.',
  },
  {
    name: 'reactions',
    type: 'string',
    nullable: true,
    description: 'JSON text of the reactions list, or null.',
  },
  {
    name: 'is_unsupported',
    type: 'boolean',
    nullable: true,
    description: 'True when Meta flags unsupported content; null unless hydrated.',
  },
  {
    name: 'attachment_types',
    type: 'string_list',
    nullable: true,
    description:
      'One entry per attachment: image, video, audio, file, template, sticker or unknown; [] when none; null unless hydrated.',
  },
  {
    name: 'attachment_urls',
    type: 'string_list',
    nullable: true,
    description:
      "Each attachment's media URL (Meta's CDN, expires within days), index-aligned with attachment_types; null unless hydrated.",
  },
  {
    name: 'share_links',
    type: 'string_list',
    nullable: true,
    description: 'Links of shared posts (CDN URLs of their image or video); null unless hydrated.',
  },
  {
    name: 'story_type',
    type: 'string',
    nullable: true,
    description: 'mention or reply_to when the message is a story mention or reply; null otherwise.',
  },
  { name: 'story_id', type: 'string', nullable: true, description: 'The story id; null when none.' },
  {
    name: 'story_link',
    type: 'string',
    nullable: true,
    description: "The story's CDN link; null when none or once the story is gone.",
  },
  {
    name: 'reaction_emojis',
    type: 'string_list',
    nullable: true,
    description: 'One entry per reaction and user who reacted; null unless hydrated.',
  },
  {
    name: 'reaction_user_ids',
    type: 'string_list',
    nullable: true,
    description: 'Who reacted, index-aligned with reaction_emojis; null unless hydrated.',
  },
  {
    name: 'raw',
    type: 'json',
    nullable: true,
    description:
      'The exact object the API returned for the message (its details when hydrated, its listing entry otherwise); no token is ever in it. Null when --redact.',
    distinct: true,
  },
  {
    name: 'source',
    type: 'string',
    nullable: true,
    description:
      'Where the content came from: api (hydrated), webhook (captured by `ig-export listen`), dyi (imported from the account\'s "Download your information" archive); null when there is none.',
  },
  {
    name: 'deleted_at',
    type: 'timestamp',
    nullable: true,
    description:
      'When the sender unsent the message, as a captured webhook said; null when no unsend was seen. The content stays unless --honour-unsends.',
  },
  SNAPSHOT_ID,
  {
    name: 'extracted_at',
    type: 'timestamp',
    nullable: false,
    description: 'When the row was read from the API (UTC).',
  },
] as const satisfies readonly Column[];

export const CONVERSATION_COLUMNS = [
  ACCOUNT_ID,
  { name: 'conversation_id', type: 'string', nullable: false, description: 'Opaque Graph conversation id.' },
  {
    name: 'updated_time',
    type: 'timestamp',
    nullable: false,
    description: 'Time of the newest message (UTC).',
  },
  {
    name: 'message_count',
    type: 'int32',
    nullable: true,
    description:
      "The conversation's total number of messages as listed by the API as of the run, in delta snapshots too; null when the run stopped before it was listed to the end.",
  },
  {
    name: 'snapshot_message_rows',
    type: 'int32',
    nullable: false,
    description:
      'Message rows this snapshot holds for the conversation (all of them in a full export, the new ones in an incremental one).',
  },
  {
    name: 'hydrated_count',
    type: 'int32',
    nullable: false,
    description: 'Of those rows, how many were hydrated.',
  },
  {
    name: 'participant_id',
    type: 'string',
    nullable: true,
    description: "The other person's Instagram-scoped id (IGSID).",
  },
  {
    name: 'participant_username',
    type: 'string',
    nullable: true,
    description: "The other person's username, when Meta gives it.",
  },
  SNAPSHOT_ID,
  {
    name: 'extracted_at',
    type: 'timestamp',
    nullable: false,
    description: 'When the conversation was listed (UTC).',
  },
] as const satisfies readonly Column[];

/** `--download-media`: one row per media URL a hydrated message carried, and what became of its download. */
export const MEDIA_COLUMNS = [
  ACCOUNT_ID,
  { name: 'conversation_id', type: 'string', nullable: false, description: 'Opaque Graph conversation id.' },
  { name: 'message_id', type: 'string', nullable: false, description: 'The message that carried the media.' },
  {
    name: 'kind',
    type: 'string',
    nullable: false,
    description: 'image, video, audio, file, sticker, template, share, story_mention or story_reply_to.',
  },
  { name: 'url', type: 'string', nullable: false, description: 'The CDN URL as the API gave it.' },
  {
    name: 'status',
    type: 'string',
    nullable: false,
    description:
      'downloaded | expired (the CDN answered 403/404/410: the signed URL is no longer served) | too_large (above --max-media-bytes) | failed (after retries; see error).',
  },
  {
    name: 'http_status',
    type: 'int32',
    nullable: true,
    description: "The CDN's final HTTP status, when it answered.",
  },
  {
    name: 'content_type',
    type: 'string',
    nullable: true,
    description: 'Content-Type of the downloaded file.',
  },
  { name: 'bytes', type: 'int32', nullable: true, description: 'Size of the downloaded file.' },
  {
    name: 'sha256',
    type: 'string',
    nullable: true,
    description: 'SHA-256 of the file; it is stored once per snapshot as media/<sha256>.',
  },
  { name: 'path', type: 'string', nullable: true, description: 'media/<sha256>, relative to the snapshot.' },
  { name: 'error', type: 'string', nullable: true, description: 'Why the download did not succeed.' },
  SNAPSHOT_ID,
  {
    name: 'downloaded_at',
    type: 'timestamp',
    nullable: false,
    description: 'When the download ended (UTC).',
  },
] as const satisfies readonly Column[];

type ValueOf<T extends ColumnType> = T extends 'string'
  ? string
  : T extends 'int32'
    ? number
    : T extends 'boolean'
      ? boolean
      : T extends 'string_list'
        ? Array<string | null>
        : T extends 'json'
          ? Record<string, unknown>
          : /* timestamp: epoch milliseconds */ number;

/** The row type of a column list: timestamps are epoch milliseconds. */
export type RowOf<C extends readonly Column[]> = {
  [K in C[number] as K['name']]: K['nullable'] extends true ? ValueOf<K['type']> | null : ValueOf<K['type']>;
};

/** Every message row has one of these statuses (its `hydration_status`): the one list of them. */
export const HYDRATION_STATUSES = [
  'hydrated',
  'captured',
  'imported',
  'archive_only',
  'outside_window',
  'unavailable',
  'failed',
] as const;
export type HydrationStatus = (typeof HYDRATION_STATUSES)[number];

/**
 * What the run state remembers of a message's status. Captured content (from a webhook) is final, as hydrated
 * content is: nothing to read again, so both are remembered as `hydrated`, by the live run and by crash recovery alike.
 * An archive's rows say nothing of what the API can give: to the run state they are what the API left them.
 */
export type KnownStatus = Exclude<HydrationStatus, 'captured' | 'imported' | 'archive_only'>;

export function knownStatus(status: HydrationStatus): KnownStatus {
  if (status === 'captured') return 'hydrated';
  if (status === 'imported' || status === 'archive_only') return 'outside_window';
  return status;
}

/**
 * Which row of a message the current view keeps, best first: content read from the API, then captured by a
 * webhook, then imported from an archive; a row without content last (the latest snapshot's).
 */
export const CONTENT_PREFERENCE: readonly HydrationStatus[] = ['hydrated', 'captured', 'imported'];

export type MessageRow = Omit<RowOf<typeof MESSAGE_COLUMNS>, 'hydration_status'> & {
  hydration_status: HydrationStatus;
};
export type ConversationRow = RowOf<typeof CONVERSATION_COLUMNS>;
export type MediaRow = Omit<RowOf<typeof MEDIA_COLUMNS>, 'status'> & {
  status: 'downloaded' | 'expired' | 'too_large' | 'failed';
};

export interface TableDefinition {
  name: 'messages' | 'conversations' | 'media';
  columns: readonly Column[];
}

export const TABLES: readonly TableDefinition[] = [
  { name: 'messages', columns: MESSAGE_COLUMNS },
  { name: 'conversations', columns: CONVERSATION_COLUMNS },
  { name: 'media', columns: MEDIA_COLUMNS },
];
