import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireRunLock } from '../../src/state/run-lock.js';
import { tempDir } from '../helpers/export-options.js';
import { runCli } from '../helpers/run-cli.js';
import { startSandbox, TEST_TOKEN } from '../helpers/sandbox-fixture.js';

interface DoctorLine {
  status: string;
  exitCode: number;
  checks: Array<{ name: string; ok: boolean; detail: string }>;
}

describe('ig-export doctor (spawned CLI)', () => {
  it('passes every check with a good token, and fails naming the fix otherwise', async () => {
    const sandbox = await startSandbox({ seed: 81, conversations: 3 });
    const out = await tempDir();
    const run = async (
      env: Record<string, string>,
      ...flags: string[]
    ): Promise<{ code: number | null; line: DoctorLine; text: string }> => {
      const r = await runCli(['doctor', '--base-url', sandbox.url, '--output', out, '--json', ...flags], {
        env,
      });
      expect(r.stdout + r.stderr).not.toContain(TEST_TOKEN);
      return { code: r.code, line: JSON.parse(r.stdout) as DoctorLine, text: r.stdout };
    };
    const good = await run({ IG_ACCESS_TOKEN: TEST_TOKEN });
    expect(good.code).toBe(0);
    expect(good.line.status).toBe('ok');
    expect(good.line.checks.map((c) => c.name)).toEqual([
      'node',
      'token',
      'token and account',
      'messaging permission',
      'output directory',
      'state directory',
      'run lock',
      'token expiry',
    ]);
    // Two API calls at most: the account and a one-item conversations page.
    expect(sandbox.stats.requests.map((r) => r.endpoint)).toEqual(['me', 'conversations']);
    expect(sandbox.stats.requests[1]?.path).toMatch(/limit=1\b/);

    // An output folder that does not exist yet is checked by making it, and nothing of it is left behind.
    const fresh = join(await tempDir(), 'not', 'yet');
    const ahead = await runCli(['doctor', '--base-url', sandbox.url, '--output', fresh, '--json'], {
      env: { IG_ACCESS_TOKEN: TEST_TOKEN },
    });
    expect(ahead.code).toBe(0);
    const aheadChecks = (JSON.parse(ahead.stdout) as DoctorLine).checks;
    expect(aheadChecks.find((c) => c.name === 'output directory')?.detail).toMatch(
      /not\/yet does not exist yet and can be created, [\d.]+ GB free$/,
    );
    expect(aheadChecks.find((c) => c.name === 'state directory')?.detail).toMatch(
      /does not exist yet and can be created$/,
    );
    expect(existsSync(dirname(fresh))).toBe(false);
    expect(good.line.checks.find((c) => c.name === 'output directory')?.detail).toMatch(/ is writable, /);

    const bad = await run({ IG_ACCESS_TOKEN: 'IGAAwrong-token-0000' });
    expect(bad.code).toBe(3);
    expect(bad.line.checks.find((c) => !c.ok)?.detail).toMatch(
      /access token is invalid; check IG_ACCESS_TOKEN/,
    );

    const none = await run({});
    expect(none.code).toBe(2);
    expect(none.line.checks.find((c) => c.name === 'token')?.detail).toMatch(
      /no access token: set IG_ACCESS_TOKEN/,
    );

    const unwritable = await run({ IG_ACCESS_TOKEN: TEST_TOKEN }, '--state-dir', '/proc/ig-export-state');
    expect(unwritable.code).toBe(8);
    expect(unwritable.line.checks.find((c) => c.name === 'state directory')?.detail).toMatch(
      /cannot create \/proc/,
    );

    const release = await acquireRunLock(join(out, '_state', `account=${sandbox.data.account.userId}`), () =>
      Date.now(),
    );
    try {
      const locked = await run({ IG_ACCESS_TOKEN: TEST_TOKEN });
      expect(locked.code).toBe(5);
      expect(locked.line.checks.find((c) => c.name === 'run lock')?.detail).toMatch(
        /another run is in progress/,
      );
    } finally {
      await release();
    }
  });
});
