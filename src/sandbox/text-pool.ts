/**
 * Message text the sandbox draws from: every string class that has broken Parquet writers or readers
 * (emoji with ZWJ/skin tones/flags, fullwidth forms that sort above emoji in UTF-16, RTL scripts, CJK,
 * combining marks, newlines, quotes and backslashes, long text).
 */
export const TEXT_POOL: readonly string[] = [
  'Hi! Is this still available?',
  'Thanks so much 🙏',
  '😀',
  '👩‍👩‍👧‍👦 family order please',
  '👍🏽👍🏿 deal',
  '🇧🇷🇯🇵🇺🇦 shipping to all three?',
  'ＡＢＣ fullwidth order #１２３',
  'Ａ',
  'Привет! Сколько стоит доставка?',
  'مرحبا، هل يمكنني الطلب؟',
  'שלום, מתי זה מגיע?',
  '你好，请问有货吗？',
  'こんにちは！サイズはありますか？',
  '안녕하세요 주문하고 싶어요',
  'नमस्ते, क्या यह उपलब्ध है?',
  'สวัสดีครับ ราคาเท่าไหร่',
  'Γειά σου! Πόσο κάνει;',
  'Crème brûlée, naïve café, façade — déjà vu',
  'line one\nline two\n\nline four',
  'quotes "double" \'single\' and back\\slash',
  'tab\tseparated\tvalues',
  'e\u0301 combining acute, Å and A\u030a',
  'Order status? https://example.com/track?id=42&x=1',
  'ok',
  '?',
  ' leading and trailing spaces ',
  'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(8).trim(),
];

export const USERNAME_POOL: readonly string[] = [
  'anna.k',
  'b_rodrigues',
  'chen.wei',
  'dmitri_v',
  'emma.jones',
  'fatima.z',
  'gabriel_s',
  'hana.tanaka',
  'ivan.petrov',
  'julia_m',
  'kofi.a',
  'lea_mueller',
  'mohammed.r',
  'nadia_k',
  'oliver.b',
  'priya.s',
  'quentin_l',
  'rosa.m',
  'sven.o',
  'tariq_h',
];

export const REACTIONS: readonly string[] = ['❤️', '😂', '😮', '😢', '😡', '👍'];
