import { describe, expect, it } from 'vitest';
import { SecondsIndex } from '../../src/archive/seconds-index.js';
import { repairText } from '../../src/archive/dyi-archive.js';
import {
  alignMessages,
  TimelineIndex,
  type ListedConversation,
  type ListedMessage,
  type TimedMessage,
} from '../../src/archive/timeline-match.js';
import { metaJson } from '../../src/sandbox/dyi/dyi-archive-writer.js';

const listed = (id: string, createdSec: number, over: Partial<ListedMessage> = {}): ListedMessage => ({
  id,
  createdSec,
  position: 0,
  side: null,
  text: null,
  ...over,
});
const archived = (timestampMs: number, over: Partial<TimedMessage> = {}): TimedMessage & { tag: string } => ({
  timestampMs,
  side: null,
  content: null,
  tag: String(timestampMs),
  ...over,
});

describe("Meta's archive encoding", () => {
  it('turns the bytes-as-code-points strings back into text, and leaves text that was not written so', () => {
    const written = JSON.parse(metaJson({ s: 'Merci ✨ Chloé 你好 👩‍👩‍👧' })) as { s: string };
    expect(written.s).toBe(
      'Merci \u00e2\u009c\u00a8 Chlo\u00c3\u00a9 \u00e4\u00bd\u00a0\u00e5\u00a5\u00bd \u00f0\u009f\u0091\u00a9\u00e2\u0080\u008d\u00f0\u009f\u0091\u00a9\u00e2\u0080\u008d\u00f0\u009f\u0091\u00a7',
    );
    expect(repairText(written.s)).toBe('Merci ✨ Chloé 你好 👩‍👩‍👧');
    expect(repairText('plain ascii')).toBe('plain ascii');
    // Already text (a code point above U+00FF), or not UTF-8 as bytes (a lone é): kept as it is.
    expect(repairText('déjà ✨')).toBe('déjà ✨');
    expect(repairText('café')).toBe('café');
  });
});

describe('pairing a conversation with its archive thread', () => {
  it('pairs a burst of several messages per second one by one, in order', () => {
    // 30 messages 300 ms apart: 3 or 4 per Graph second.
    const start = 1_700_000_000_700;
    const arch = Array.from({ length: 30 }, (_, k) => archived(start - k * 300));
    const list = arch.map((a, k) => listed(`m${k}`, Math.floor(a.timestampMs / 1000)));
    const r = alignMessages(list, arch);
    expect(r.ambiguous).toEqual([]);
    expect(r.pairs.map((p) => [p.listed.id, p.archived.tag])).toEqual(
      list.map((l, k) => [l.id, arch[k]!.tag]),
    );
  });

  it('leaves a second whose two sides differ in count unmatched, and pairs the seconds around it', () => {
    const list = [listed('a', 100), listed('b', 100), listed('c', 98), listed('d', 50)];
    const arch = [archived(100_900), archived(98_100), archived(50_500), archived(10_000)];
    const r = alignMessages(list, arch);
    expect(r.pairs.map((p) => p.listed.id)).toEqual(['c', 'd']);
    expect(r.ambiguous.map((a) => a.tag)).toEqual(['100900']);
    expect(r.archiveOnly.map((a) => a.tag)).toEqual(['10000']);
  });

  it('pairs across a clock one second apart, but never neighbours of a skewed burst whose counts differ', () => {
    const list = [listed('a', 200), listed('b', 100)];
    const skewed = [archived(201_200), archived(101_300)];
    expect(alignMessages(list, skewed).pairs.map((p) => p.listed.id)).toEqual(['a', 'b']);
    const burst = [listed('x', 300), listed('y', 300), listed('z', 299)];
    const missingOne = [archived(301_100), archived(300_900)];
    const r = alignMessages(burst, missingOne);
    expect(r.pairs).toEqual([]);
    expect(r.ambiguous).toHaveLength(2);
  });

  it('refuses a pairing where a known sender side or a hydrated text disagrees', () => {
    const bySide = alignMessages(
      [listed('a', 10, { side: 'account' })],
      [archived(10_100, { side: 'participant' })],
    );
    expect(bySide.pairs).toEqual([]);
    expect(bySide.ambiguous).toHaveLength(1);
    const byText = alignMessages(
      [listed('a', 10, { text: 'hello' })],
      [archived(10_100, { content: 'bye' })],
    );
    expect(byText.pairs).toEqual([]);
    const agree = alignMessages(
      [listed('a', 10, { side: 'account', text: 'hello' })],
      [archived(10_100, { side: 'account', content: 'hello' })],
    );
    expect(agree.pairs).toHaveLength(1);
  });
});

describe('matching archive threads to conversations by timeline', () => {
  const conversation = (
    id: string,
    seconds: number[],
    participantUsername: string | null = null,
  ): ListedConversation => ({
    id,
    participantUsername,
    messages: seconds.map((s, i) => listed(`${id}-${i}`, s)),
  });

  it('takes the conversation whose timeline the thread hits, by time, not by name', () => {
    const index = new TimelineIndex([
      conversation('c1', [1000, 900, 800, 700, 600], 'ana'),
      conversation('c2', [1500, 1400, 1300, 1200, 1100], 'ana'),
    ]);
    // Both people are "Ana Silva" in the archive: time alone tells their threads apart.
    expect(index.score([1_400_500, 1_300_200, 1_200_900, 1_100_000], ['Ana Silva']).conversationId).toBe(
      'c2',
    );
    expect(index.score([1_000_100, 899_900, 800_000, 700_000, 600_000], ['Ana Silva']).conversationId).toBe(
      'c1',
    );
  });

  it('matches nothing when the best is below 90 % of the shorter timeline, or not well ahead of the runner-up', () => {
    const index = new TimelineIndex([
      conversation('c1', [10, 20, 30, 40]),
      conversation('c2', [10, 20, 30, 50]),
    ]);
    expect(index.score([10_000, 20_000, 99_000, 98_000], []).conversationId).toBeUndefined();
    const close = index.score([10_000, 20_000, 30_000], []);
    expect(close.conversationId).toBeUndefined();
    expect(close.runnerUpHits).toBe(3);
  });

  it('lets the participant name break a tie between close conversations', () => {
    const index = new TimelineIndex([
      conversation('c1', [10, 20, 30], 'bruno.m'),
      conversation('c2', [10, 20, 30], 'chloe_d'),
    ]);
    expect(index.score([10_000, 20_000, 30_000], ['Chloe D', 'Shop']).conversationId).toBe('c2');
    expect(index.score([10_000, 20_000, 30_000], ['Someone Else']).conversationId).toBeUndefined();
  });
});

describe('SecondsIndex', () => {
  it('finds each owner of a second once, whatever the order of adding, past its first capacity', () => {
    const index = new SecondsIndex();
    const expected = new Map<number, Set<number>>();
    // 5,000 pairs in a scrambled order, with repeats: more than the 1,024 it starts with.
    for (let i = 0; i < 5000; i++) {
      const second = 1_700_000_000 + ((i * 7919) % 1500);
      const owner = (i * 31) % 4;
      index.add(second, owner);
      expected.set(second, (expected.get(second) ?? new Set()).add(owner));
    }
    for (const [second, owners] of expected) expect(index.at(second).sort()).toEqual([...owners].sort());
    expect(index.at(1_699_999_999)).toEqual([]);
    expect(index.at(1_700_001_500)).toEqual([]);
    // Adding after a lookup sorts again.
    index.add(1_699_999_999, 9);
    expect(index.at(1_699_999_999)).toEqual([9]);
  });
});
