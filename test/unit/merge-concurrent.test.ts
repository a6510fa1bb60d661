import { describe, expect, it } from 'vitest';
import { mergeConcurrent } from '../../src/pipeline/concurrency.js';

async function* numbers(n: number, pulled: number[]): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) {
    await Promise.resolve();
    pulled.push(i);
    yield i;
  }
}

describe('mergeConcurrent', () => {
  it('yields every inner item and never runs more than `concurrency` inner iterables at once', async () => {
    let active = 0;
    let peak = 0;
    const pulled: number[] = [];
    const out: number[] = [];
    for await (const v of mergeConcurrent(numbers(20, pulled), 3, async function* (i) {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setImmediate(r));
      yield i * 10;
      yield i * 10 + 1;
      active--;
    })) {
      out.push(v);
    }
    expect(out.sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => [i * 10, i * 10 + 1]).flat(),
    );
    expect(peak).toBe(3);
  });

  it('propagates an inner error and stops pulling the source', async () => {
    const pulled: number[] = [];
    const run = async (): Promise<void> => {
      const merged = mergeConcurrent(numbers(100, pulled), 2, async function* (i) {
        await Promise.resolve();
        if (i === 3) throw new Error('boom');
        yield i;
      });
      for await (const value of merged) expect(value).not.toBe(3);
    };
    await expect(run()).rejects.toThrow('boom');
    expect(pulled.length).toBeLessThan(10);
  });
});

describe('mergeConcurrent with a waiting source', () => {
  it('keeps draining running iterables while the source is blocked', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    async function* source(): AsyncGenerator<number> {
      yield 1;
      await gate; // e.g. a checkpoint that waits for in-flight work to finish
      yield 2;
    }
    const seen: number[] = [];
    for await (const v of mergeConcurrent(source(), 2, async function* (i) {
      await Promise.resolve();
      yield i;
      if (i === 1) release(); // only possible if item 1 is drained while the source waits
    })) {
      seen.push(v);
    }
    expect(seen).toEqual([1, 2]);
  });
});
