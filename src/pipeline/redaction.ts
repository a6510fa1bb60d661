import { createHmac } from 'node:crypto';
import type { ConversationRow, MessageRow } from '../schema/tables.js';

/** Columns `--redact` replaces with a keyed hash, and columns it empties. */
export const REDACTED_COLUMNS = {
  hashed: [
    'from_id',
    'from_username',
    'to_id',
    'to_username',
    'reaction_user_ids',
    'story_id',
    'participant_id',
    'participant_username',
  ],
  dropped: ['message', 'raw', 'attachments', 'reactions', 'attachment_urls', 'share_links', 'story_link'],
} as const;

/**
 * `--redact`: every user id and username other than the account's own is replaced with a keyed hash
 * (HMAC-SHA-256, 128 bits in hex, `h_…`), stable across runs with the same key so that joins still work; message
 * text, raw objects, links and media are dropped. Without the key a hash cannot be reversed or recomputed from a
 * guessed id. The account's own id and username stay, so the direction of each message stays visible.
 */
export class Redactor {
  /** Names the key without revealing it: the same key always gives the same id. */
  readonly keyId: string;

  constructor(
    private readonly key: string,
    private readonly accountId: string,
    private readonly accountUsername: string | undefined,
  ) {
    this.keyId = this.hash('key-id', 'ig-export');
  }

  private hash(domain: string, value: string): string {
    return `h_${createHmac('sha256', this.key).update(`${domain}:${value}`).digest('hex').slice(0, 32)}`;
  }

  id(value: string | null): string | null {
    return value === null || value === this.accountId ? value : this.hash('id', value);
  }

  username(value: string | null): string | null {
    return value === null || value === this.accountUsername ? value : this.hash('username', value);
  }

  /** Replaces every occurrence of `secret` (a user id on a command line) with its hash. */
  text(value: string, userId: string | undefined): string {
    return userId === undefined ? value : value.split(userId).join(this.id(userId) ?? '');
  }

  message(row: MessageRow): MessageRow {
    const list = <T>(v: T[] | null, f: (x: T) => T): T[] | null => (v === null ? null : v.map(f));
    return {
      ...row,
      from_id: this.id(row.from_id),
      from_username: this.username(row.from_username),
      to_id: this.id(row.to_id),
      to_username: this.username(row.to_username),
      reaction_user_ids: list(row.reaction_user_ids, (u) => this.id(u)),
      story_id: row.story_id === null ? null : this.hash('story', row.story_id),
      message: null,
      raw: null,
      attachments: null,
      reactions: null,
      attachment_urls: list(row.attachment_urls, () => null),
      share_links: null,
      story_link: null,
    };
  }

  conversation(row: ConversationRow): ConversationRow {
    return {
      ...row,
      participant_id: this.id(row.participant_id),
      participant_username: this.username(row.participant_username),
    };
  }
}
