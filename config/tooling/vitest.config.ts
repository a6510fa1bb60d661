import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // End-to-end tests spawn the compiled CLI; compile once before any test runs.
    globalSetup: ['test/helpers/build-once.ts'],
    // Room for a loaded 2-core machine: the longest test takes about 20 s alone.
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Test files in one worker share loaded modules and the Parquet encoder threads (nothing in the tests mocks a
    // module or changes process-wide state), which saves each file the start-up of both.
    isolate: false,
    // Two test files at once: most tests wait on sockets and child processes, so two keep both cores busy.
    maxWorkers: 2,
  },
});
