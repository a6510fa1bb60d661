import { AbortError } from 'p-retry';
import { describe, expect, it } from 'vitest';
import { wrap, type Policy } from '../../src/graph/policies/send-chain.js';
import { transientRetry, type RetryStep } from '../../src/graph/policies/transient-retry.js';
import { VirtualClock } from '../helpers/virtual-clock.js';

class Flaky extends Error {}
class Final extends Error {}

/** A step that fails with the given errors in turn, then answers `ok`. */
function failing(...errors: Error[]): { send: (n: number) => Promise<string>; calls: () => number } {
  let calls = 0;
  return {
    send: () => {
      const e = errors[calls++];
      return e ? Promise.reject(e) : Promise.resolve('ok');
    },
    calls: () => calls,
  };
}

const rules = (): ((e: unknown) => RetryStep) => {
  let n = 0;
  return (e) =>
    e instanceof Final ? { retry: false } : { retry: true, waitMs: 100 * ++n, spendsRetry: true };
};

describe('transientRetry', () => {
  it('retries what the rules call transient, waiting on the injected clock as they say', async () => {
    const clock = new VirtualClock(0);
    const step = failing(new Flaky('a'), new Flaky('b'));
    const send = transientRetry<number, string>({ rulesFor: rules, maxRetries: 5, clock })(step.send);
    await expect(send(1)).resolves.toBe('ok');
    expect(step.calls()).toBe(3);
    expect(clock.sleeps).toEqual([100, 200]);
  });

  it('stops at what the rules call final, with the rules’ own error when they give one', async () => {
    const clock = new VirtualClock(0);
    const step = failing(new Flaky('a'), new Final('gone'));
    await expect(
      transientRetry<number, string>({ rulesFor: rules, maxRetries: 5, clock })(step.send)(1),
    ).rejects.toThrow('gone');
    expect(step.calls()).toBe(2);
    const renamed = transientRetry<number, string>({
      rulesFor: () => () => ({ retry: false, error: new Error('named by the rules') }),
      clock,
    })(failing(new Flaky('x')).send);
    await expect(renamed(1)).rejects.toThrow('named by the rules');
  });

  it('gives up after maxRetries spent, but a step that spends none does not count', async () => {
    const clock = new VirtualClock(0);
    const spent = failing(new Flaky('1'), new Flaky('2'), new Flaky('3'));
    await expect(
      transientRetry<number, string>({ rulesFor: rules, maxRetries: 2, clock })(spent.send)(1),
    ).rejects.toThrow('3');
    const free = failing(new Flaky('1'), new Flaky('2'), new Flaky('3'));
    const unspent = transientRetry<number, string>({
      rulesFor: () => () => ({ retry: true, waitMs: 0, spendsRetry: false }),
      maxRetries: 1,
      clock,
    })(free.send);
    await expect(unspent(1)).resolves.toBe('ok');
    expect(free.calls()).toBe(4);
  });

  it('never retries an AbortError from a step below', async () => {
    const clock = new VirtualClock(0);
    const step = failing(new AbortError(new Flaky('latched')));
    await expect(
      transientRetry<number, string>({ rulesFor: rules, maxRetries: 5, clock })(step.send)(1),
    ).rejects.toThrow('latched');
    expect(step.calls()).toBe(1);
  });
});

describe('wrap', () => {
  it('puts the first policy listed outermost', async () => {
    const order: string[] = [];
    const tag =
      (name: string): Policy<(x: string) => Promise<string>> =>
      (next) =>
      async (x) => {
        order.push(name);
        return next(`${x}>${name}`);
      };
    const send = wrap((x: string) => Promise.resolve(x), tag('outer'), tag('inner'));
    await expect(send('call')).resolves.toBe('call>outer>inner');
    expect(order).toEqual(['outer', 'inner']);
  });
});
