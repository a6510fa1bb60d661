import { createHash } from 'node:crypto';
import type { Clock } from '../../clock.js';
import { GraphClient, type GraphClientSettings } from '../../graph/client.js';
import { ConversationsApi, MESSAGE_FIELDS } from '../../graph/conversations-api.js';
import { GraphAuthError, GraphRequestError } from '../../graph/errors.js';
import { LARGEST_PAGE } from '../../graph/meta-limits.js';
import {
  fullPageWithoutNext,
  idsPageFromLink,
  nestedIdsField,
  pagingLinkForm,
  type PagingLinkForm,
} from '../../graph/message-list.js';
import type { Logger } from '../../logger.js';

/**
 * `ig-export probe`: checks on a real account, in a handful of calls, every behaviour of graph.instagram.com the
 * exporter guesses (src/graph/meta-api-facts.md): whether message details come inside an expansion, the form of a
 * message list's `next` link and whether it can be followed, the largest page, what a detail read beyond the 20
 * most recent answers, whether `user_id` narrows the listing, which usage headers come, and any throttle code. It
 * reports ids as short hashes and never a message's text.
 */

export interface ProbeCheck {
  check: string;
  /** What ig-export guesses. */
  expected: string;
  seen: string;
  /** What ig-export does about what was seen. */
  action: string;
  /** What was seen is what ig-export guessed. */
  asGuessed: boolean;
}

export interface ProbeReport {
  /** The account, as a short hash. */
  account: string;
  expansion: 'served' | 'ignored' | 'refused' | 'unknown';
  nestedPaging: PagingLinkForm | 'cursors' | 'unknown';
  /** Following a message list's link for ids only: answered, refused (the cursor fallback then), or not tried. */
  continuation: 'followed' | 'refused' | 'not tried';
  /** Largest page of message ids served when 100 were asked (null when no list was long enough to tell). */
  largestPage: number | null;
  /** What a detail read of a message at position ≥ 20 answers: `served`, the error's `code[/subcode]`, or `not tried`. */
  beyondWindow: string;
  /** What a detail read of the newest message answers: `served`, an error code, or `not tried`. */
  withinWindow: string;
  userIdFilter: boolean | null;
  usageHeaders: string[];
  throttleCode: number | null;
  calls: number;
  checks: ProbeCheck[];
}

export interface ProbeOptions {
  client: GraphClientSettings;
  account: string;
  windowSize: number;
}

/** The most calls a probe makes (the issue's budget is 15; the plan below needs at most 11). */
export const PROBE_MAX_CALLS = 15;
const CONVERSATIONS_PAGE = 25;

const shortHash = (id: string): string => createHash('sha256').update(id).digest('hex').slice(0, 10);

interface Listed {
  id: string;
  participantId: string | undefined;
  window:
    { items: Array<Record<string, unknown>>; next: URL | undefined; after: string | undefined } | undefined;
}

function codeOf(e: unknown): string {
  if (!(e instanceof GraphRequestError)) return (e as Error).message;
  const g = e.graphError;
  if (g?.code === undefined) return `HTTP ${e.status ?? e.networkCode ?? 'none'}`;
  return `${g.code}${g.error_subcode === undefined ? '' : `/${g.error_subcode}`}`;
}

const DETAIL = ['from', 'to', 'message'];
const detailed = (m: Record<string, unknown>): boolean => DETAIL.some((f) => m[f] !== undefined);

/** What every step of a probe shares. */
interface Probe {
  client: GraphClient;
  api: ConversationsApi;
  account: string;
  windowSize: number;
  checks: ProbeCheck[];
}

type IdsPage = { data: Array<Record<string, unknown>>; more: boolean };

/** A page of a list, whether it came as an edge (`data`) or inside a node's `messages`. */
function pageOf(b: unknown): IdsPage {
  const p = (
    (b as { data?: unknown } | null)?.data !== undefined ? b : (b as { messages?: unknown } | null)?.messages
  ) as { data?: unknown; paging?: { next?: unknown } } | undefined;
  const data = Array.isArray(p?.data) ? (p.data as Array<Record<string, unknown>>) : [];
  return { data, more: typeof p?.paging?.next === 'string' };
}

export async function probeApi(
  options: ProbeOptions,
  deps: { clock: Clock; random: () => number; logger: Logger; signal?: AbortSignal | undefined },
): Promise<ProbeReport> {
  // Few retries: a probe reports what it sees rather than waiting out a bad minute.
  const client = new GraphClient({
    ...options.client,
    retries: Math.min(options.client.retries, 2),
    ...deps,
  });
  const probe: Probe = {
    client,
    api: new ConversationsApi(client, LARGEST_PAGE),
    account: options.account,
    windowSize: options.windowSize,
    checks: [],
  };
  const resolved = await probe.api.resolveAccount(options.account);
  const { expansion, conversations } = await probeExpansion(probe, resolved.id);
  const chosen = await longConversation(probe, conversations, expansion);
  const nestedPaging = probeNestedPaging(probe, chosen, conversations.length);
  const { continuation, largestPage, beyond } = await probeContinuation(probe, chosen);
  const { beyondWindow, withinWindow } = await probeDetailReads(probe, conversations, beyond);
  const userIdFilter = await probeUserIdFilter(probe, chosen ?? conversations[0]);
  const { usageHeaders, throttleCode } = passiveChecks(probe);
  return {
    account: shortHash(resolved.id),
    expansion,
    nestedPaging,
    continuation,
    largestPage,
    beyondWindow,
    withinWindow,
    userIdFilter,
    usageHeaders,
    throttleCode,
    calls: Object.values(client.metrics.calls).reduce((a, b) => a + b, 0),
    checks: probe.checks,
  };
}

/** 1. The conversation listing with each conversation's window expanded (what --hydrate auto asks for). */
async function probeExpansion(
  probe: Probe,
  accountId: string,
): Promise<{ expansion: ProbeReport['expansion']; conversations: Listed[] }> {
  const { client, account, windowSize } = probe;
  const listing = (fields: string): URL =>
    client.url(`${account}/conversations`, {
      platform: 'instagram',
      fields,
      limit: String(CONVERSATIONS_PAGE),
    });
  let expansion: ProbeReport['expansion'] = 'unknown';
  let expansionSeen = '';
  let body: unknown;
  try {
    body = await client.get(
      'conversations',
      listing(`id,updated_time,participants,messages.limit(${windowSize}){${MESSAGE_FIELDS}}`),
    );
  } catch (e) {
    if (e instanceof GraphAuthError || !(e instanceof GraphRequestError)) throw e;
    expansion = 'refused';
    expansionSeen = `refused (${codeOf(e)})`;
    body = await client.get('conversations', listing('id,updated_time,participants'));
  }
  const conversations = listedConversations(body, accountId, client);
  if (expansion !== 'refused') {
    const items = conversations.flatMap((c) => c.window?.items ?? []);
    if (items.length > 0) expansion = items.some(detailed) ? 'served' : 'ignored';
    expansionSeen = expansion === 'unknown' ? 'unknown (no messages listed)' : expansion;
  }
  probe.checks.push({
    check: 'message details inside a messages{…} expansion',
    expected: `served for the ${windowSize} most recent`,
    seen: expansionSeen,
    action:
      expansion === 'served'
        ? '--hydrate auto reads every window in the listing itself (many times fewer calls)'
        : expansion === 'unknown'
          ? 'nothing to decide yet'
          : '--hydrate auto falls back to one call per message for the run (the same rows, more calls)',
    asGuessed: expansion === 'served',
  });
  return { expansion, conversations };
}

/**
 * 2a. A conversation whose list goes on past its window: one with a `next` link if any has one; else a full window
 * with a cursor (a server that leaves `next` out); without windows (expansion refused), the ids of a few
 * conversations until one goes on.
 */
async function longConversation(
  probe: Probe,
  conversations: Listed[],
  expansion: ProbeReport['expansion'],
): Promise<Listed | undefined> {
  const { client, windowSize } = probe;
  let chosen: Listed | undefined =
    conversations.find((c) => c.window?.next !== undefined) ??
    conversations.find((c) => c.window?.after !== undefined && c.window.items.length >= windowSize);
  for (const c of conversations.slice(0, 3)) {
    if (chosen || expansion !== 'refused') break;
    const nested = await client.get('messages', client.url(c.id, { fields: nestedIdsField(windowSize) }));
    const window = windowFrom((nested as { messages?: unknown } | null)?.messages, client);
    if (window && window.items.length >= windowSize && (window.next ?? window.after) !== undefined)
      chosen = { ...c, window };
  }
  return chosen;
}

/** 2b. The form of that conversation's `next` link. */
function probeNestedPaging(
  probe: Probe,
  chosen: Listed | undefined,
  listed: number,
): ProbeReport['nestedPaging'] {
  const { windowSize } = probe;
  const window = chosen?.window;
  let nestedPaging: ProbeReport['nestedPaging'] = 'unknown';
  if (window?.next !== undefined) nestedPaging = pagingLinkForm(window.next);
  else if (window && fullPageWithoutNext({ ...window, items: window.items.length, limit: windowSize }))
    nestedPaging = 'cursors';
  probe.checks.push({
    check: "form of a message list's next link",
    expected: 'edge: /<conversation>/messages?…&after=…',
    seen: chosen
      ? nestedPaging
      : `unknown (no conversation among the ${listed} newest has more than ${windowSize} messages)`,
    action:
      nestedPaging === 'cursors'
        ? 'full pages are continued by cursor (.after(<cursor>) in the field expansion)'
        : 'followed as given, with only the list fields and page size rewritten',
    asGuessed: nestedPaging === 'edge' || nestedPaging === 'unknown',
  });
  return nestedPaging;
}

/** 3. Following that link for ids only, 100 a page; the cursor fallback when it is refused. */
async function probeContinuation(
  probe: Probe,
  chosen: Listed | undefined,
): Promise<{
  continuation: ProbeReport['continuation'];
  largestPage: number | null;
  beyond: string | undefined;
}> {
  const { client } = probe;
  const window = chosen?.window;
  let continuation: ProbeReport['continuation'] = 'not tried';
  let largestPage: number | null = null;
  let beyond: string | undefined;
  let continuationSeen = 'not tried: no list goes on past its window';
  const byCursor = (after: string): URL =>
    client.url(chosen!.id, { fields: nestedIdsField(LARGEST_PAGE, after) });
  if (window && (window.next !== undefined || window.after !== undefined)) {
    let page: IdsPage | undefined;
    try {
      const url =
        window.next !== undefined ? idsPageFromLink(window.next, LARGEST_PAGE) : byCursor(window.after!);
      page = pageOf(await client.get('messages', url));
      continuation = 'followed';
      continuationSeen = `answered ${page.data.length} ids`;
    } catch (e) {
      if (e instanceof GraphAuthError || !(e instanceof GraphRequestError) || window.after === undefined)
        throw e;
      continuation = 'refused';
      const fallback = await client
        .get('messages', byCursor(window.after))
        .then((b) => ((page = pageOf(b)), `the cursor fallback answered ${page.data.length} ids`))
        .catch((f: unknown) => `the cursor fallback failed too (${codeOf(f)})`);
      continuationSeen = `refused (${codeOf(e)}); ${fallback}`;
    }
    if (page && page.more) largestPage = page.data.length;
    beyond = page?.data[0]?.['id'] as string | undefined;
  }
  probe.checks.push({
    check: 'following that link for ids only, 100 a page',
    expected: 'answered',
    seen: continuationSeen,
    action:
      continuation === 'refused'
        ? 'the run continues every message list by cursor through the documented field expansion'
        : 'followed as given',
    asGuessed: continuation !== 'refused',
  });
  probe.checks.push({
    check: 'largest page of message ids served',
    expected: '100',
    seen: largestPage === null ? 'unknown (no list longer than one page of 100)' : String(largestPage),
    action: 'ig-export asks for 100 and follows whatever pages come',
    asGuessed: largestPage === null || largestPage === 100,
  });
  return { continuation, largestPage, beyond };
}

/** 4. Detail reads: beyond the window (expected refused as "deleted") and within it (expected served). */
async function probeDetailReads(
  probe: Probe,
  conversations: Listed[],
  beyond: string | undefined,
): Promise<{ beyondWindow: string; withinWindow: string }> {
  const { windowSize } = probe;
  const read = async (id: string | undefined): Promise<string> => {
    if (id === undefined) return 'not tried';
    const outcome = await probe.api.message(id);
    return outcome.status === 'hydrated' ? 'served' : codeOf(outcome.error);
  };
  const beyondWindow = await read(beyond);
  probe.checks.push({
    check: `detail read of a message beyond the ${windowSize} most recent`,
    expected: 'refused: code 100, "deleted"',
    seen: beyondWindow,
    action:
      beyondWindow === 'served'
        ? 'Meta served it: ig-export still reads only the window (please report this: the window may be wider)'
        : `counted as outside_window, never asked again`,
    asGuessed: beyondWindow !== 'served',
  });
  const newest = conversations.find((c) => c.window?.items[0]?.['id'] !== undefined)?.window?.items[0]?.[
    'id'
  ];
  const withinWindow = await read(typeof newest === 'string' ? newest : undefined);
  const fine = withinWindow === 'served' || withinWindow === 'not tried';
  probe.checks.push({
    check: 'detail read of the newest message',
    expected: 'served',
    seen: withinWindow,
    action: fine
      ? 'one call per message where expansion does not serve details'
      : 'the newest message cannot be read: check the token has instagram_business_manage_messages',
    asGuessed: fine,
  });
  return { beyondWindow, withinWindow };
}

/** 5. The user_id filter: one person's conversation, and nobody else's. */
async function probeUserIdFilter(probe: Probe, person: Listed | undefined): Promise<boolean | null> {
  const { client, account } = probe;
  let userIdFilter: boolean | null = null;
  if (person?.participantId !== undefined) {
    const filtered = await client.get(
      'conversations',
      client.url(`${account}/conversations`, {
        platform: 'instagram',
        fields: 'id',
        user_id: person.participantId,
      }),
    );
    const ids = pageOf(filtered).data.map((c) => c['id']);
    userIdFilter = ids.length === 1 && ids[0] === person.id;
  }
  probe.checks.push({
    check: 'user_id narrows the conversation listing to one person',
    expected: 'yes',
    seen: userIdFilter === null ? 'not tried: no conversation' : userIdFilter ? 'yes' : 'no',
    action:
      userIdFilter === false
        ? '--user-id still exports that person alone (ig-export filters the listing by participant), at the cost of listing every conversation'
        : '--user-id lists one conversation',
    asGuessed: userIdFilter !== false,
  });
  return userIdFilter;
}

/** 6. What the calls so far showed without asking: usage headers and any throttle code. */
function passiveChecks(probe: Probe): { usageHeaders: string[]; throttleCode: number | null } {
  const { client } = probe;
  const usageHeaders = [...client.usageHeadersSeen].sort();
  probe.checks.push({
    check: 'usage headers on conversation calls',
    expected: 'x-app-usage, x-business-use-case-usage',
    seen: usageHeaders.length === 0 ? 'none' : usageHeaders.join(', '),
    action:
      usageHeaders.length === 0
        ? 'pacing alone keeps the account under its limit (no early slow-down)'
        : 'the pace slows above 80 % and stops for any announced block',
    asGuessed: usageHeaders.length > 0,
  });
  const throttleCode = [...client.throttleCodesSeen][0] ?? null;
  probe.checks.push({
    check: 'throttle code',
    expected: 'one of 4, 17, 613, 80002, 80006 (never provoked: a probe stays under the limit)',
    seen: throttleCode === null ? 'none seen' : String(throttleCode),
    action: 'every throttle code pauses all calls of the account',
    asGuessed: true,
  });
  return { usageHeaders, throttleCode };
}

function windowFrom(messages: unknown, client: GraphClient): Listed['window'] {
  const m = messages as
    { data?: unknown; paging?: { next?: unknown; cursors?: { after?: unknown } } } | undefined;
  if (!m || !Array.isArray(m.data)) return undefined;
  const next = m.paging?.next;
  const after = m.paging?.cursors?.after;
  return {
    items: m.data as Array<Record<string, unknown>>,
    next: typeof next === 'string' && next !== '' ? client.followable(next) : undefined,
    after: typeof after === 'string' && after !== '' ? after : undefined,
  };
}

function listedConversations(body: unknown, accountId: string, client: GraphClient): Listed[] {
  const data = (body as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) return [];
  return data.flatMap((item): Listed[] => {
    const c = item as { id?: unknown; participants?: { data?: unknown }; messages?: unknown };
    if (typeof c.id !== 'string') return [];
    const people = Array.isArray(c.participants?.data)
      ? (c.participants.data as Array<{ id?: unknown }>)
      : [];
    const other = people.find((p) => typeof p.id === 'string' && p.id !== accountId)?.id;
    return [
      {
        id: c.id,
        participantId: typeof other === 'string' ? other : undefined,
        window: windowFrom(c.messages, client),
      },
    ];
  });
}
