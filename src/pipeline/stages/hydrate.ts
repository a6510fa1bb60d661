import type { LimitFunction } from 'p-limit';
import type { ConversationsApi, HydrationOutcome } from '../../graph/conversations-api.js';
import type { ListedMessage } from '../types.js';

export type MessageOutcome = HydrationOutcome | { status: 'outside_window' };

/**
 * Stage 3: details of the messages inside the window (the `windowSize` most recent). A message at a position at
 * or beyond the window is never requested: its details are gone for good, and it is reported `outside_window`.
 * In-window messages are requested oldest first — the oldest is the next to slide out of the window.
 */
export async function hydratePage(
  api: ConversationsApi,
  limit: LimitFunction,
  page: readonly ListedMessage[],
  windowSize: number,
): Promise<MessageOutcome[]> {
  const outcomes: Array<Promise<MessageOutcome>> = page.map(() =>
    Promise.resolve({ status: 'outside_window' }),
  );
  const inWindow = page
    .map((m, index) => ({ m, index }))
    .filter(({ m }) => m.position < windowSize)
    .sort((a, b) => b.m.position - a.m.position);
  for (const { m, index } of inWindow) outcomes[index] = limit(() => api.message(m.id));
  return Promise.all(outcomes);
}
