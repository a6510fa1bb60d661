import { describe, expect, it } from 'vitest';
import { describeFailure } from '../../src/cli/failure-report.js';

describe('an unexpected failure is reported in one line', () => {
  it("keeps the first line of a library's multi-line message (DuckDB lists settings to try after it)", () => {
    const duckdb = new Error(
      'Out of Memory Error: failed to pin block of size 256.0 KiB (244.2 MiB/244.1 MiB used)\n\nPossible solutions:\n' +
        '* Reducing the number of threads (SET threads=X)\n\nSee also https://duckdb.org/docs/stable/guides/performance/how_to_tune_workloads',
    );
    const report = describeFailure(duckdb);
    expect(report).toMatchObject({ code: 1, kind: 'unexpected' });
    expect(report.message).toBe(
      'unexpected error: Out of Memory Error: failed to pin block of size 256.0 KiB (244.2 MiB/244.1 MiB used) ' +
        '(run with --log-level debug for the stack trace, and please report it)',
    );
    expect(describeFailure('plain text').message).toMatch(/^unexpected error: plain text \(/);
  });
});
