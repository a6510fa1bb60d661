import { describe, expect, it } from 'vitest';
import { GraphClient, type GraphClientOptions } from '../../src/graph/client.js';
import { GraphRequestError } from '../../src/graph/errors.js';
import type { Logger } from '../../src/logger.js';
import type { TransportResult } from '../../src/graph/transport.js';
import { testClientOptions } from '../helpers/client-options.js';
import { VirtualClock } from '../helpers/virtual-clock.js';

const THROTTLED: TransportResult = {
  ok: false,
  facts: { status: 400, error: { code: 80002, message: 'too many calls', is_transient: true } },
  usage: undefined,
};
const TRANSIENT: TransportResult = {
  ok: false,
  facts: { status: 500, error: { code: 2, message: 'unexpected', is_transient: true } },
  usage: undefined,
};
const OK: TransportResult = { ok: true, status: 200, body: { id: '1' }, usage: undefined };

/** A client whose transport answers from a script, on a virtual clock; records when each call was sent. */
function scripted(
  answers: (call: number) => TransportResult | Promise<TransportResult>,
  overrides: Partial<GraphClientOptions> = {},
) {
  const clock = new VirtualClock(0);
  const sent: number[] = [];
  const warnings: string[] = [];
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (m) => warnings.push(m),
    error: () => undefined,
  };
  const client = new GraphClient(
    testClientOptions('https://graph.example', {
      clock,
      logger,
      transport: () => {
        sent.push(clock.now());
        return Promise.resolve(answers(sent.length - 1));
      },
      ...overrides,
    }),
  );
  const get = (): Promise<unknown> => client.get('message', client.url('m'));
  return { client, clock, sent, warnings, get };
}

describe('throttle policy', () => {
  it.each([0, 1, 3])(
    'a throttle never spends a retry of a transient failure (--retries %i)',
    async (retries) => {
      const { get, sent } = scripted((n) => (n < 2 ? THROTTLED : OK), { retries });
      await expect(get()).resolves.toEqual({ id: '1' });
      expect(sent).toHaveLength(3);
    },
  );

  it('transient failures still stop after --retries, however many throttles came between', async () => {
    const script = [THROTTLED, TRANSIENT, THROTTLED, TRANSIENT, THROTTLED, TRANSIENT, OK];
    const { get, sent } = scripted((n) => script[n] ?? OK, { retries: 2 });
    await expect(get()).rejects.toBeInstanceOf(GraphRequestError);
    expect(sent).toHaveLength(6); // the third transient failure is not retried
  });

  it('requests in flight when the account is throttled make one episode: one wait, not 2^k', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const { client, get, sent, clock, warnings } = scripted(async (n) => {
      if (n < 4) {
        await gate; // all four are in flight when the throttle comes back
        return THROTTLED;
      }
      return OK;
    });
    const all = Promise.all([get(), get(), get(), get()]);
    while (sent.length < 4) await new Promise((r) => setImmediate(r));
    release();
    await all;
    expect(sent.slice(0, 4)).toEqual([0, 0, 0, 0]);
    // One pause of --throttle-wait-ms, nothing sent during it, and the waits reported add up to the real pause.
    expect(sent.slice(4).every((t) => t === 60_000)).toBe(true);
    expect(clock.now()).toBe(60_000);
    expect(client.metrics.throttles).toBe(4);
    expect(client.metrics.throttleWaitMs).toBe(60_000);
    expect(warnings.filter((w) => w.startsWith('pausing all calls'))).toHaveLength(1);
  });

  it('a throttle after the pause ended is a new episode: the wait doubles', async () => {
    const { client, get, sent } = scripted((n) => (n < 2 ? THROTTLED : OK));
    await get();
    expect(sent).toEqual([0, 60_000, 180_000]);
    expect(client.metrics.throttleWaitMs).toBe(180_000);
  });
});
