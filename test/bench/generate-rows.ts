import type { MessageRow } from '../../src/schema/tables.js';

/** Text that exercises every encoder path: emoji, fullwidth, CJK, RTL, combining marks, long and empty text. */
const TEXTS = [
  'Hi! Is this still available?',
  'Thanks so much 🙏',
  '😀',
  '👩‍👩‍👧‍👦 family order please',
  'ＡＢＣ fullwidth order #１２３',
  'Привет! Сколько стоит доставка?',
  'مرحبا، هل يمكنني الطلب؟',
  '你好，请问有货吗？',
  '안녕하세요 주문하고 싶어요',
  'Crème brûlée, naïve café — déjà vu',
  'line one\nline two',
  'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(4),
];
const STATUSES = ['hydrated', 'outside_window', 'unavailable', 'failed'] as const;

/** Deterministic message rows for the writer benchmark (the same for every writer). */
export function* generateRows(count: number): Generator<MessageRow> {
  let state = 42;
  const next = (): number => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 4294967296;
  };
  const base = Date.UTC(2023, 0, 1);
  for (let i = 0; i < count; i++) {
    const status = STATUSES[next() < 0.3 ? 0 : next() < 0.95 ? 1 : next() < 0.5 ? 2 : 3];
    const hydrated = status === 'hydrated';
    const text = TEXTS[Math.floor(next() * TEXTS.length)]!;
    yield {
      account_id: `178414${String(Math.floor(next() * 40)).padStart(11, '0')}`,
      conversation_id: `aWdfZAG06MTpJR01lc3NhZA2VUaHJlYWQ6${Math.floor(i / 50)}`,
      message_id: `aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQx${i.toString(36).padStart(10, '0')}`,
      position: i % 50,
      created_time: base + Math.floor(next() * 3 * 365 * 86_400_000),
      hydration_status: status,
      from_id: hydrated ? String(6521113831237472 + (i % 1000)) : null,
      from_username: hydrated && next() > 0.05 ? `user_${i % 997}` : null,
      to_id: hydrated ? '17841454604145814' : null,
      to_username: hydrated ? 'acme.shop' : null,
      message: hydrated ? (next() < 0.03 ? '' : text) : null,
      attachments:
        hydrated && next() < 0.1
          ? '{"shares":{"data":[{"link":"https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1"}]}}'
          : null,
      reactions: hydrated && next() < 0.1 ? '{"data":[{"reaction":"❤️","users":[{"id":"1"}]}]}' : null,
      is_unsupported: hydrated ? false : null,
      attachment_types: hydrated ? [] : null,
      attachment_urls: hydrated ? [] : null,
      share_links: hydrated ? [] : null,
      story_type: null,
      story_id: null,
      story_link: null,
      reaction_emojis: hydrated ? [] : null,
      reaction_user_ids: hydrated ? [] : null,
      raw: { id: `m${i}`, created_time: '2023-01-01T00:00:00+0000' },
      source: hydrated ? 'api' : null,
      deleted_at: null,
      snapshot_id: '20261127T140512.123Z',
      extracted_at: Date.UTC(2026, 10, 27, 14, 5, 12),
    };
  }
}
