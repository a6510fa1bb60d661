import { randomInt } from 'node:crypto';

/** Jitter for backoff and pacing: uniform in [0, 1), from the OS's random source. */
export const systemRandom = (): number => randomInt(0, 1_000_000) / 1_000_000;
