import type { GraphClientOptions } from '../../src/graph/client.js';
import { silentLogger } from '../../src/logger.js';
import { TEST_TOKEN } from './sandbox-fixture.js';
import { VirtualClock } from './virtual-clock.js';

/** Graph client options for tests: unpaced, fast backoff, a virtual clock, a 60 s fallback throttle wait. */
export function testClientOptions(
  baseUrl: string,
  overrides: Partial<GraphClientOptions> = {},
): GraphClientOptions {
  return {
    baseUrl,
    apiVersion: 'v23.0',
    token: TEST_TOKEN,
    maxRps: 0,
    timeoutMs: 5_000,
    retries: 3,
    backoff: { baseMs: 100, maxMs: 1_000 },
    throttleWaitMs: 60_000,
    maxThrottles: 5,
    notFoundRetries: 2,
    slowDownAbovePercent: 80,
    clock: new VirtualClock(),
    random: () => 0.5,
    logger: silentLogger,
    ...overrides,
  };
}
