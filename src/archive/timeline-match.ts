import { SecondsIndex } from './seconds-index.js';

/**
 * Matching an archive to an export by time, never by name (the archive names people by display name only, and its
 * thread folders are not Graph ids). Every exported conversation has the complete timeline of its message ids and
 * `created_time` (whole seconds); every archive thread has its messages' `timestamp_ms`. A thread goes to the
 * conversation whose timeline it hits clearly best; inside a pair, messages are paired by walking both timelines
 * newest first. A body is never attached to a message it may not belong to: what is unsure stays unmatched.
 */

/** A listed message of the export, as the import needs it. */
export interface ListedMessage {
  id: string;
  createdSec: number;
  /** Its rank when listed (0 = newest), as the export wrote it. */
  position: number;
  /** Who sent it, when the API said: the account itself, or the other participant. */
  side: 'account' | 'participant' | null;
  /** The text the API gave, when it was hydrated. */
  text: string | null;
}

export interface ListedConversation {
  id: string;
  participantUsername: string | null;
  /** Newest first. */
  messages: ListedMessage[];
}

/** What pairing needs of an archive message: its time, its sender's side, its text. */
export interface TimedMessage {
  timestampMs: number;
  side: 'account' | 'participant' | null;
  content: string | null;
}

/** How a thread's timeline compares with the exported ones. */
export interface ThreadScore {
  /** The conversation it goes to, or undefined when none is clearly best. */
  conversationId: string | undefined;
  /** Archive messages whose second (±1) the chosen conversation's timeline holds. */
  hits: number;
  /** The same for the runner-up. */
  runnerUpHits: number;
}

/** A thread is matched when its best conversation holds ≥ 90 % of the shorter timeline… */
export const MIN_SHARE = 0.9;
/** …and the runner-up reaches at most half of the best's hits. */
export const RUNNER_UP_SHARE = 0.5;

const letters = (s: string): string => s.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');

/** Which conversations hold a message in each second: what scoring looks up. */
export class TimelineIndex {
  private readonly bySecond = new SecondsIndex();
  /** Conversation ids by their number in `bySecond`. */
  private readonly ids: string[] = [];
  private readonly numbers = new Map<string, number>();
  private readonly sizes = new Map<string, number>();
  /** Each conversation's oldest and newest listed second. */
  private readonly spans = new Map<string, [number, number]>();
  private readonly usernames = new Map<string, string | null>();

  constructor(conversations: Iterable<ListedConversation> = []) {
    for (const c of conversations) {
      this.name(c.id, c.participantUsername);
      for (const m of c.messages) this.add(c.id, m.createdSec);
    }
  }

  /** Adds one listed message of a conversation (in any order). */
  add(conversationId: string, createdSec: number): void {
    this.sizes.set(conversationId, (this.sizes.get(conversationId) ?? 0) + 1);
    const span = this.spans.get(conversationId);
    if (span) {
      span[0] = Math.min(span[0], createdSec);
      span[1] = Math.max(span[1], createdSec);
    } else this.spans.set(conversationId, [createdSec, createdSec]);
    let n = this.numbers.get(conversationId);
    if (n === undefined) {
      n = this.ids.push(conversationId) - 1;
      this.numbers.set(conversationId, n);
    }
    this.bySecond.add(createdSec, n);
  }

  /** The username of a conversation's participant: a tie-breaker when two conversations score close. */
  name(conversationId: string, participantUsername: string | null): void {
    this.usernames.set(conversationId, participantUsername);
  }

  /** How many conversations have a listed message. */
  get size(): number {
    return this.sizes.size;
  }

  /**
   * Scores a thread against every conversation: hits = archive messages whose second, give or take one (the guess of
   * how the two clocks relate), one of the conversation's messages has. The best is taken only when it holds ≥ 90 %
   * of the shorter timeline and the runner-up at most half as many hits; when two are close, the participant's name
   * decides if exactly one of them has it (a tie-breaker, never the key). The thread's timeline counts only its
   * messages within the conversation's listed span: older ones (or newer than the export) have no listed message.
   */
  score(timestampsMs: readonly number[], participantNames: readonly string[]): ThreadScore {
    const hits = new Map<string, number>();
    for (const ms of timestampsMs) {
      const s = Math.floor(ms / 1000);
      const seen = new Set<string>();
      for (const sec of [s - 1, s, s + 1]) for (const n of this.bySecond.at(sec)) seen.add(this.ids[n]!);
      for (const id of seen) hits.set(id, (hits.get(id) ?? 0) + 1);
    }
    const ranked = [...hits].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const [best, second] = ranked;
    if (!best) return { conversationId: undefined, hits: 0, runnerUpHits: 0 };
    const shorterFor = (id: string): number => {
      const [oldest, newest] = this.spans.get(id) ?? [0, 0];
      const within = timestampsMs.filter((ms) => {
        const s = Math.floor(ms / 1000);
        return s >= oldest - 1 && s <= newest + 1;
      }).length;
      return Math.min(within, this.sizes.get(id) ?? 0);
    };
    const shorter = shorterFor(best[0]);
    const enough = best[1] >= MIN_SHARE * shorter;
    const clear = !second || second[1] <= RUNNER_UP_SHARE * best[1];
    let chosen: string | undefined = enough && clear ? best[0] : undefined;
    if (enough && !clear) {
      const names = new Set(participantNames.map(letters).filter((n) => n !== ''));
      const close = ranked.filter(([, h]) => h > RUNNER_UP_SHARE * best[1]);
      const named = close.filter(([id]) => names.has(letters(this.usernames.get(id) ?? '')));
      if (named.length === 1 && named[0]![1] >= MIN_SHARE * shorterFor(named[0]![0])) chosen = named[0]![0];
    }
    return {
      conversationId: chosen,
      hits: chosen === undefined ? 0 : (hits.get(chosen) ?? 0),
      runnerUpHits: ranked.find(([id]) => id !== chosen)?.[1] ?? 0,
    };
  }
}

export interface Alignment<A extends TimedMessage> {
  pairs: Array<{ listed: ListedMessage; archived: A }>;
  /** Archive messages left unpaired where both sides had messages that could not be told apart. */
  ambiguous: A[];
  /** Archive messages with no listed message near their time (older than the listing, or deleted since). */
  archiveOnly: A[];
}

const sameText = (a: string | null, b: string | null): boolean =>
  a === null || b === null || a === '' || b === '' || a.normalize('NFC') === b.normalize('NFC');

/** Whether two messages may be the same: sender sides agree where both are known, texts where both have one. */
const compatible = (l: ListedMessage, a: TimedMessage): boolean =>
  (l.side === null || a.side === null || l.side === a.side) && sameText(l.text, a.content);

/**
 * Pairs a conversation's listed messages with its archive thread's, both newest first. Seconds that follow one
 * another (a burst, or clocks a second apart) form one cluster; a cluster whose two sides have as many messages is
 * paired in order, when every pair's sender side (and text, where the API gave one) agrees. Otherwise each exact
 * second with as many messages on both sides is paired the same way (only when the cluster starts in the same second
 * on both sides, so a skewed clock cannot pair neighbours), and the rest is ambiguous.
 */
export function alignMessages<A extends TimedMessage>(
  listed: readonly ListedMessage[],
  archived: readonly A[],
): Alignment<A> {
  type Item = { sec: number; listed?: ListedMessage; archived?: A };
  const items: Item[] = [
    ...listed.map((l) => ({ sec: l.createdSec, listed: l })),
    ...archived.map((a) => ({ sec: Math.floor(a.timestampMs / 1000), archived: a })),
  ];
  // Newest first; the sort is stable, so each side keeps its own order within a second.
  items.sort((x, y) => y.sec - x.sec);
  const result: Alignment<A> = { pairs: [], ambiguous: [], archiveOnly: [] };
  let start = 0;
  while (start < items.length) {
    let end = start + 1;
    while (end < items.length && items[end - 1]!.sec - items[end]!.sec <= 1) end++;
    pairCluster(items.slice(start, end), result);
    start = end;
  }
  return result;
}

function pairInOrder<A extends TimedMessage>(
  l: readonly ListedMessage[],
  a: readonly A[],
): Array<{ listed: ListedMessage; archived: A }> | undefined {
  if (l.length !== a.length) return undefined;
  const pairs = l.map((listed, i) => ({ listed, archived: a[i]! }));
  return pairs.every((p) => compatible(p.listed, p.archived)) ? pairs : undefined;
}

function pairCluster<A extends TimedMessage>(
  cluster: ReadonlyArray<{ sec: number; listed?: ListedMessage; archived?: A }>,
  out: Alignment<A>,
): void {
  const l = cluster.flatMap((i) => (i.listed ? [i.listed] : []));
  const a = cluster.flatMap((i) => (i.archived ? [i.archived] : []));
  if (a.length === 0) return;
  if (l.length === 0) {
    out.archiveOnly.push(...a);
    return;
  }
  const whole = pairInOrder(l, a);
  if (whole) {
    out.pairs.push(...whole);
    return;
  }
  // The cluster is newest first: its first listed and first archived message start it on each side.
  const aligned = l[0]!.createdSec === Math.floor(a[0]!.timestampMs / 1000);
  const bySecond = new Map<number, { ls: ListedMessage[]; as: A[] }>();
  for (const i of cluster) {
    const group = bySecond.get(i.sec) ?? { ls: [], as: [] };
    if (i.listed) group.ls.push(i.listed);
    if (i.archived) group.as.push(i.archived);
    bySecond.set(i.sec, group);
  }
  for (const { ls, as } of bySecond.values()) {
    const pairs = aligned && ls.length > 0 ? pairInOrder(ls, as) : undefined;
    if (pairs) out.pairs.push(...pairs);
    else out.ambiguous.push(...as);
  }
}
