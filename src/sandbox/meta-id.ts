/**
 * Meta-style opaque IDs. Conversation and message IDs on graph.instagram.com are base64 of
 * `ig_dm:1:IGMessageThread:<IG_ID>:<thread>` / `ig_dm_item:1:IGMessageID:<IG_ID>:<thread>:<item>`, where a literal
 * `Z` is written `ZA` and `=` is written `ZD` (contract §1.5). Clients must treat them as opaque.
 */
export function encodeMetaId(plain: string): string {
  return Buffer.from(plain, 'utf8')
    .toString('base64')
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/Z/g, 'ZA')
    .replace(/=/g, 'ZD');
}

export function conversationIdFor(igUserId: string, thread: bigint): string {
  return encodeMetaId(`ig_dm:1:IGMessageThread:${igUserId}:${thread}`);
}

export function messageIdFor(igUserId: string, thread: bigint, item: bigint): string {
  return encodeMetaId(`ig_dm_item:1:IGMessageID:${igUserId}:${thread}:${item}`);
}

/** Opaque paging cursor: the key of the last item served plus a nonce, so two cursors for one position differ. */
export function encodeCursor(key: string, nonce = 0): string {
  return encodeMetaId(`${key}|${nonce}`);
}

export function decodeCursor(cursor: string): string | undefined {
  const b64 = cursor.replace(/ZD/g, '=').replace(/ZA/g, 'Z').replace(/-/g, '+').replace(/_/g, '/');
  const plain = Buffer.from(b64, 'base64').toString('utf8');
  const bar = plain.lastIndexOf('|');
  return bar > 0 ? plain.slice(0, bar) : undefined;
}
