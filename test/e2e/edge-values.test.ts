import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/export-options.js';
import { runCli, spawnCli } from '../helpers/run-cli.js';

const PASTED = 'IGAAQx7hT9kLmN2pQrS5tUvW8xYz0aBcDeFgHiJkLmNoPq';
const LISTEN_ENV = {
  IG_APP_SECRET: 'an-app-secret-for-tests',
  IG_WEBHOOK_VERIFY_TOKEN: 'a-verify-token-for-tests',
};

describe('values are validated at the edge: exit 2 naming the flag, one JSON line', () => {
  it.each([
    [['export', '--max-rps', '1e-8'], '--max-rps'],
    [['export', '--max-rps', 'abc'], '--max-rps'],
    [['export', '--timeout-ms', '1e12'], '--timeout-ms'],
    [['export', '--since', '2026-02-30'], '--since'],
    [['export', '--until', '2026-13-01T00:00:00Z'], '--until'],
    [['listen', '--max-body-bytes', 'abc'], '--max-body-bytes'],
    [['listen', '--max-body-bytes', '-1'], '--max-body-bytes'],
    [['listen', '--port', '70000'], '--port'],
    [['sandbox', '--port', '70000'], '--port'],
    [['sandbox', '--fault-rate', '2'], '--fault-rate'],
    [['demo', '--conversations', '0'], '--conversations'],
    // A flag without its value (last, or before another flag) is refused, not read as "not given".
    [['export', '--max-rps'], '--max-rps'],
    [['demo', '--conversations'], '--conversations'],
    [['sandbox', '--port'], '--port'],
    [['export', '--compression', 'lz4'], '--compression'],
    [['export', '--log-level', 'loud'], '--log-level'],
  ])('%j', async (args, flag) => {
    // The sandbox serves; it has no output folder and no summary line.
    const json = args[0] !== 'sandbox';
    const extra = json ? ['--output', await tempDir(), '--json'] : [];
    const result = await runCli([...args, ...extra], { env: LISTEN_ENV });
    expect(result.code).toBe(2);
    // One line that names the flag, then the pointer to --help.
    expect(result.stderr.split('\n')[0]).toContain(flag);
    expect(result.stderr.trim().split('\n')).toHaveLength(2);
    if (json) {
      const line = JSON.parse(result.stdout.trim()) as { status: string; error: { message: string } };
      expect(line.status).toBe('failed');
      expect(line.error.message).toContain(flag);
    }
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('a path that begins with "~" (quoted, or in a config file) is refused, and no folder named "~" appears', async () => {
    const cwd = await tempDir();
    const config = join(cwd, 'config.json');
    await writeFile(config, JSON.stringify({ output: '~/archive' }));
    const cases: Array<[string[], string]> = [
      [['demo', '--output', '~/archive', '--json'], '--output "~/archive" begins with "~"'],
      [['export', '--state-dir', '~/state', '--json'], '--state-dir "~/state" begins with "~"'],
      // No shell expands "~" after "=".
      [['compact', '--output=~/archive', '--json'], '--output "~/archive" begins with "~"'],
      [['verify', '~/archive', '--json'], 'snapshots "~/archive" begins with "~"'],
      [['import-dyi', '~/dyi.zip', '--json'], 'archive "~/dyi.zip" begins with "~"'],
      [['export', '--config', config, '--json'], `config file ${config} is invalid: output: begins with "~"`],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(args, { cwd, env: { IG_ACCESS_TOKEN: PASTED } });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr.split('\n')[0], args.join(' ')).toContain(message);
      const line = JSON.parse(result.stdout.trim()) as { error: { kind: string; message: string } };
      expect(line.error).toMatchObject({ kind: 'usage' });
      expect(line.error.message).toContain(message);
    }
    expect(existsSync(join(cwd, '~'))).toBe(false);
  });

  it('a second sandbox on a port in use: exit 2 naming the port, no stack trace', async () => {
    const first = spawnCli(['sandbox', '--port', '0']);
    try {
      await first.waitForStdout(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
      const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(first.stdoutSoFar())![1]!;
      const second = await runCli(['sandbox', '--port', port]);
      expect(second.code).toBe(2);
      expect(second.stderr).toContain(`cannot listen on 127.0.0.1:${port} (EADDRINUSE)`);
      expect(second.stderr).not.toMatch(/\n\s+at /);
    } finally {
      first.child.kill('SIGTERM');
      await first.result;
    }
  });

  it.each([
    [['export', PASTED]],
    [['export', '--token-file', PASTED]],
    [['export', '--config', PASTED]],
    [['listen', '--app-secret-file', PASTED]],
    [['verify', PASTED]],
  ])('a token pasted where a path or flag goes is never echoed: %j', async (args) => {
    const result = await runCli([...args, '--json'], { env: LISTEN_ENV });
    expect(result.code).toBe(2);
    expect(result.stdout + result.stderr).not.toContain(PASTED);
    expect(result.stdout + result.stderr).not.toContain(PASTED.slice(4, 30));
  });

  it('listen warns when bound beyond loopback, and refuses to start when its spool cannot be written', async () => {
    const open = spawnCli(['listen', '--host', '0.0.0.0', '--port', '0', '--output', await tempDir()], {
      env: LISTEN_ENV,
    });
    try {
      await open.waitForStderr(/reachable from other machines/);
    } finally {
      open.child.kill('SIGTERM');
      await open.result;
    }
    const dir = await tempDir();
    await writeFile(join(dir, 'state'), 'a file where the state folder goes');
    const refused = await runCli(
      ['listen', '--port', '0', '--state-dir', join(dir, 'state', 'x'), '--json'],
      {
        env: LISTEN_ENV,
      },
    );
    expect(refused.code).toBe(8);
    expect(refused.stderr).toContain('the webhook spool cannot be written');
  });
});

describe('sandboxes say what they are', () => {
  it("the fleet trial after the tour exports every fleet account's conversations (the printed config has its own output)", async () => {
    const cwd = await tempDir();
    const tour = spawnCli(['sandbox', '--port', '0', '--conversations', '30', '--rate-limit', '0']);
    const fleet = spawnCli(['sandbox', '--port', '0', '--account-count', '2', '--rate-limit', '0']);
    try {
      await tour.waitForStdout(/--output output\/sandbox-seed-1\n/);
      expect(tour.stdoutSoFar()).toMatch(/it accepts the token sandbox-token .*no rate limit/);
      const tourUrl = /listening on (http:\/\/\S+)/.exec(tour.stdoutSoFar())![1]!;
      // The tour, as the README runs it: into ./output.
      const first = await runCli(['export', '--base-url', tourUrl, '--max-rps', '1000', '--json'], {
        cwd,
        env: { IG_ACCESS_TOKEN: 'sandbox-token' },
      });
      expect(first.code).toBe(0);
      await fleet.waitForStdout(/ig-export export --config <that file>\n/);
      const config = /^ {2}(\{.*\})$/m.exec(fleet.stdoutSoFar())![1]!;
      expect(JSON.parse(config)).toMatchObject({ output: 'output/sandbox-fleet-seed-1' });
      await writeFile(join(cwd, 'fleet.json'), config);
      const result = await runCli(['export', '--config', 'fleet.json', '--max-rps', '1000', '--json'], {
        cwd,
        env: { IG_TOKEN_SHOP1: 'sandbox-token-1', IG_TOKEN_SHOP2: 'sandbox-token-2' },
      });
      expect(result.code).toBe(0);
      const lines = result.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { account?: string; counts?: { conversations: number } });
      // shop1 has the tour account's seed and id but 50 conversations: all of them are exported.
      expect(lines.find((l) => l.account === 'shop1')?.counts?.conversations).toBe(50);
    } finally {
      tour.child.kill('SIGTERM');
      fleet.child.kill('SIGTERM');
      await Promise.all([tour.result, fleet.result]);
    }
  });
});
