import { defineConfig } from 'vitest/config';

/** `npm run test:unit`: the unit tests alone, in-process (no build, no spawned CLI, no sandbox over the network). */
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
