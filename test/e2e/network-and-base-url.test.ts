import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { tempDir } from '../helpers/export-options.js';
import { expectSnapshotEqualsSandbox } from '../helpers/expected-rows.js';
import { exportArgs, runCli } from '../helpers/run-cli.js';
import { startSandbox, TEST_TOKEN } from '../helpers/sandbox-fixture.js';

function jsonLines(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('the network and --base-url, through the CLI', () => {
  it('cut bodies, resets and stalled bodies on one call in ten: the exact export, exit 0', async () => {
    const sandbox = await startSandbox({
      seed: 17,
      conversations: 40,
      faults: {
        rates: { cut_mid_body: 0.04, reset_before_headers: 0.03, stall_after_headers: 0.03 },
        slowMs: 4_000,
      },
    });
    const out = await tempDir();
    const result = await runCli(
      exportArgs(sandbox.url, out, '--timeout-ms', '1500', '--backoff-base-ms', '10'),
      {
        env: { IG_ACCESS_TOKEN: TEST_TOKEN },
      },
    );
    const faults = sandbox.stats.faults;
    expect(faults['cut_mid_body']).toBeGreaterThan(0);
    expect(faults['reset_before_headers']).toBeGreaterThan(0);
    expect(faults['stall_after_headers']).toBeGreaterThan(0);
    expect(result.code).toBe(0);
    const [summary] = jsonLines(result.stdout);
    expect(summary).toMatchObject({ status: 'complete' });
    await expectSnapshotEqualsSandbox(summary!['snapshotDir'] as string, sandbox);
  });

  it('a --base-url that serves web pages ends at once with exit 2 and one line naming --base-url', async () => {
    const paths: string[] = [];
    const server = createServer((req, res) => {
      paths.push(req.url ?? '');
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>404</title><h1>Not Found</h1>');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    onTestFinished(() => new Promise<void>((r) => server.close(() => r())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const result = await runCli(exportArgs(url, await tempDir()), { env: { IG_ACCESS_TOKEN: TEST_TOKEN } });
    expect(result.code).toBe(2);
    expect(paths).toHaveLength(2); // one retry, no more
    expect(jsonLines(result.stdout)).toEqual([
      {
        status: 'failed',
        exitCode: 2,
        error: {
          kind: 'usage',
          message: `--base-url ${url} answered HTTP 404 text/html to GET /v23.0/me: it is not a Graph API; the default is https://graph.instagram.com`,
        },
      },
    ]);
    expect(result.stderr).toContain(`ig-export: --base-url ${url} answered HTTP 404 text/html`);
    expect(result.stderr).not.toContain(TEST_TOKEN);
  });

  it('a --base-url with the API version in its path is refused before any call', async () => {
    const result = await runCli(exportArgs('http://127.0.0.1:9/v23.0', await tempDir()), {
      env: { IG_ACCESS_TOKEN: TEST_TOKEN },
    });
    expect(result.code).toBe(2);
    expect(jsonLines(result.stdout)[0]).toMatchObject({ status: 'failed', exitCode: 2 });
    expect(result.stderr).toMatch(/--base-url: holds an API version in its path/);
  });
});
