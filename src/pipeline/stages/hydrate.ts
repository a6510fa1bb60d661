import type { LimitFunction } from 'p-limit';
import type { ConversationsApi, HydrationOutcome } from '../../graph/conversations-api.js';
import type { ListedItem } from '../hydration-strategy.js';

export type MessageOutcome = HydrationOutcome | { status: 'outside_window' };

/**
 * Stage 3: details of the messages inside the window (the `windowSize` most recent). A message whose details came
 * with its listing needs no call; a message at a position at or beyond the window is never requested: its details
 * are gone for good, and it is reported `outside_window`. In-window messages are requested oldest first — the
 * oldest is the next to slide out of the window.
 */
export async function hydratePage(
  api: ConversationsApi,
  limit: LimitFunction,
  page: readonly ListedItem[],
  windowSize: number,
): Promise<MessageOutcome[]> {
  const outcomes: Array<Promise<MessageOutcome>> = page.map(({ m, detail, invalid }) =>
    Promise.resolve<MessageOutcome>(
      invalid !== undefined && m.position < windowSize
        ? { status: 'failed', error: invalid }
        : detail !== undefined && m.position < windowSize
          ? { status: 'hydrated', detail }
          : { status: 'outside_window' },
    ),
  );
  const toRead = page
    .map((item, index) => ({ item, index }))
    .filter(({ item }) => item.m.position < windowSize && item.detail === undefined && !item.invalid)
    .sort((a, b) => b.item.m.position - a.item.m.position);
  for (const { item, index } of toRead) outcomes[index] = limit(() => api.message(item.m.id));
  return Promise.all(outcomes);
}
