import { describe, expect, it } from 'vitest';
import { describeFailure } from '../../src/cli/failure-report.js';
import { GraphRequestError } from '../../src/graph/errors.js';

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

  it("says which timeout ran out: the --timeout-ms the user can raise, or the system's", () => {
    const unreachable = (networkCode: string): string =>
      describeFailure(
        new GraphRequestError(
          { kind: 'transient', reason: networkCode },
          'GET',
          '/v23.0/me',
          undefined,
          undefined,
          {
            origin: 'http://127.0.0.1:8787',
            networkCode,
          },
        ),
      ).message;
    expect(unreachable('timeout')).toBe(
      'cannot reach http://127.0.0.1:8787 (timeout, no answer within --timeout-ms), even after retries; ' +
        'check --base-url, DNS, proxy settings and the network',
    );
    expect(unreachable('ETIMEDOUT')).toContain('(ETIMEDOUT, no answer before the timeout)');
  });
});
