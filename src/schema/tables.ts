/**
 * The output schema, defined once. NDJSON rows, the Parquet schema, the README column table and
 * `ig-export schema` are all derived from these lists.
 */
export type ColumnType = 'string' | 'int32' | 'boolean' | 'timestamp';

export interface Column {
  readonly name: string;
  readonly type: ColumnType;
  readonly nullable: boolean;
  readonly description: string;
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
  },
  {
    name: 'position',
    type: 'int32',
    nullable: false,
    description: 'Rank in the conversation when listed, 0 = newest. Only positions 0–19 can be hydrated.',
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
      'hydrated | outside_window (never readable: beyond the 20 most recent) | unavailable (API said deleted) | failed (gave up after retries).',
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

type ValueOf<T extends ColumnType> = T extends 'string'
  ? string
  : T extends 'int32'
    ? number
    : T extends 'boolean'
      ? boolean
      : /* timestamp: epoch milliseconds */ number;

/** The row type of a column list: timestamps are epoch milliseconds. */
export type RowOf<C extends readonly Column[]> = {
  [K in C[number] as K['name']]: K['nullable'] extends true ? ValueOf<K['type']> | null : ValueOf<K['type']>;
};

export type MessageRow = RowOf<typeof MESSAGE_COLUMNS>;
export type ConversationRow = RowOf<typeof CONVERSATION_COLUMNS>;

export interface TableDefinition {
  name: 'messages' | 'conversations';
  columns: readonly Column[];
}

export const TABLES: readonly TableDefinition[] = [
  { name: 'messages', columns: MESSAGE_COLUMNS },
  { name: 'conversations', columns: CONVERSATION_COLUMNS },
];
