/**
 * Runs `fn` over the items of `source` with at most `concurrency` inner iterables in flight and yields their items
 * as they come. The source is pulled only when a slot is free, and a source that waits (a checkpoint gate, a slow
 * page) never stops the running inner iterables from making progress. Memory stays bounded whatever the sizes.
 */
export async function* mergeConcurrent<T, R>(
  source: AsyncIterable<T>,
  concurrency: number,
  fn: (item: T) => AsyncIterable<R>,
): AsyncGenerator<R> {
  type Event = { from: 'source'; result: IteratorResult<T> } | { from: number; result: IteratorResult<R> };
  const input = source[Symbol.asyncIterator]();
  const running = new Map<number, { iterator: AsyncIterator<R>; next: Promise<Event> }>();
  let pendingSource: Promise<Event> | undefined;
  let sourceDone = false;
  let nextKey = 0;

  // Raced below; a rejection after we stopped listening must not go unhandled.
  const quiet = <P>(p: Promise<P>): Promise<P> => {
    p.catch(() => undefined);
    return p;
  };
  const advance = (iterator: AsyncIterator<R>, key: number): Promise<Event> =>
    quiet(iterator.next().then((result) => ({ from: key, result })));

  try {
    for (;;) {
      if (!sourceDone && pendingSource === undefined && running.size < concurrency) {
        pendingSource = quiet(input.next().then((result) => ({ from: 'source' as const, result })));
      }
      const racers = [...running.values()].map((r) => r.next);
      if (pendingSource) racers.push(pendingSource);
      if (racers.length === 0) return;
      const event = await Promise.race(racers);
      if (event.from === 'source') {
        pendingSource = undefined;
        if (event.result.done) sourceDone = true;
        else {
          const key = nextKey++;
          const iterator = fn(event.result.value)[Symbol.asyncIterator]();
          running.set(key, { iterator, next: advance(iterator, key) });
        }
        continue;
      }
      const entry = running.get(event.from);
      if (!entry) continue;
      const result = event.result;
      if (result.done) {
        running.delete(event.from);
        continue;
      }
      entry.next = advance(entry.iterator, event.from);
      yield result.value;
    }
  } finally {
    // Stop everything still running (the consumer broke off, or one inner iterable threw).
    await Promise.allSettled([...running.values()].map(async (r) => r.iterator.return?.()));
    if (pendingSource === undefined) await input.return?.();
  }
}
