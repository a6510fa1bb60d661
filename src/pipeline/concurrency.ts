/**
 * Runs `fn` over the items of `source` with at most `concurrency` inner iterables in flight and yields their items
 * as they come. Pulls from `source` only when a slot is free, so memory stays bounded whatever the source's size.
 */
export async function* mergeConcurrent<T, R>(
  source: AsyncIterable<T>,
  concurrency: number,
  fn: (item: T) => AsyncIterable<R>,
): AsyncGenerator<R> {
  const input = source[Symbol.asyncIterator]();
  type Pending = Promise<{ key: number; result: IteratorResult<R> }>;
  const running = new Map<number, { iterator: AsyncIterator<R>; next: Pending }>();
  let nextKey = 0;
  let sourceDone = false;

  const advance = (iterator: AsyncIterator<R>, key: number): Pending => {
    const p = iterator.next().then((result) => ({ key, result }));
    p.catch(() => undefined); // raced below; a rejection after we stopped listening must not go unhandled
    return p;
  };

  const start = (iterator: AsyncIterator<R>): void => {
    const key = nextKey++;
    running.set(key, { iterator, next: advance(iterator, key) });
  };

  try {
    for (;;) {
      while (!sourceDone && running.size < concurrency) {
        const item = await input.next();
        if (item.done) sourceDone = true;
        else start(fn(item.value)[Symbol.asyncIterator]());
      }
      if (running.size === 0) return;
      const { key, result } = await Promise.race([...running.values()].map((r) => r.next));
      const entry = running.get(key);
      if (!entry) continue;
      if (result.done) {
        running.delete(key);
        continue;
      }
      entry.next = advance(entry.iterator, key);
      yield result.value;
    }
  } finally {
    // Stop everything still running (consumer broke off, or one inner iterable threw).
    await Promise.allSettled([...running.values()].map(async (r) => r.iterator.return?.()));
    await input.return?.();
  }
}
