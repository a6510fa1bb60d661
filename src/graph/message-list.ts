import type { PageLinks } from './client.js';

/**
 * How a conversation's message list continues past a page. Meta does not document the form of a nested edge's
 * `paging.next` on graph.instagram.com (GUESS), and public responses show several: the edge itself
 * (`/<conv>/messages?…&after=`), the conversation node (`/<conv>?fields=messages{…}&after=`), and time paging
 * (`…&until=&__paging_token=`, no cursors). The client follows whichever comes, rewriting only the list's fields and
 * page size, and falls back to the documented field expansion with a cursor
 * (`/<conv>?fields=messages.limit(100).after(<cursor>){id,created_time}`) when a link is refused or missing.
 */
export type PagingLinkForm = 'edge' | 'node' | 'until';

/** Where a message list goes on after a page: its `next` link (token stripped) and its `after` cursor. */
export interface MessageListContinuation {
  next: string | undefined;
  after: string | undefined;
}

const ID_FIELDS = 'id,created_time';

/** The nested field that lists a conversation's message ids and times, `limit` a page, after `after`. */
export function nestedIdsField(limit: number, after?: string): string {
  return `messages.limit(${limit})${after === undefined ? '' : `.after(${after})`}{${ID_FIELDS}}`;
}

/** Which form a `next` link of a message list takes. */
export function pagingLinkForm(link: URL): PagingLinkForm {
  if (link.searchParams.has('until') || link.searchParams.has('__paging_token')) return 'until';
  return pointsAtNode(link) ? 'node' : 'edge';
}

/** A node-form link names the conversation itself and asks for its `messages` field. */
function pointsAtNode(link: URL): boolean {
  const last = link.pathname
    .split('/')
    .filter((s) => s !== '')
    .pop();
  return last !== 'messages' && (link.searchParams.get('fields') ?? '').trimStart().startsWith('messages');
}

/**
 * A message list's `next` link, asking for ids and times only, `limit` at a time. An edge link gets plain `fields`
 * and `limit`; a node link keeps its query and gets the nested field rewritten (never the node's `fields` replaced
 * by message fields: `id,created_time` alone would be read as fields of the conversation).
 */
export function idsPageFromLink(link: URL, limit: number): URL {
  const u = new URL(link);
  if (!pointsAtNode(u)) {
    u.searchParams.set('fields', ID_FIELDS);
    u.searchParams.set('limit', String(limit));
    return u;
  }
  const after = /\.after\(([^)]*)\)/.exec(u.searchParams.get('fields') ?? '')?.[1];
  u.searchParams.set('fields', nestedIdsField(limit, after));
  if (u.searchParams.has('limit')) u.searchParams.set('limit', String(limit));
  return u;
}

/**
 * A page with an `after` cursor and no `next` ends the list by Meta's rule, unless it is full: a server that leaves
 * `next` out of nested edges would otherwise end every conversation at its first page. A full page is continued by
 * cursor (at most one call more, when the list really ended on a full page).
 */
export function fullPageWithoutNext(page: PageLinks): boolean {
  return page.next === undefined && page.after !== undefined && page.items > 0 && page.items >= page.limit;
}
