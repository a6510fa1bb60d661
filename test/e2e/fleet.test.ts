import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountLockDir } from '../../src/snapshots/layout.js';
import { createSandboxFleet, type SandboxFleet } from '../../src/sandbox/sandbox-fleet.js';
import { acquireRunLock } from '../../src/state/run-lock.js';
import { writeFleetConfig, type FleetNaming } from '../helpers/fleet-config.js';
import { allFiles, REPO_ROOT, runCli, spawnCli, type RunningCli } from '../helpers/run-cli.js';

interface AccountLine {
  account: string;
  accountId: string;
  status: string;
  exitCode: number;
  calls?: number;
  snapshotDir?: string | null;
  error?: { kind: string; message: string };
}

interface FleetLine {
  fleet: true;
  status: string;
  exitCode: number;
  accounts: number;
  complete: number;
  partial: number;
  failed: number;
  calls: number;
  shard: string | null;
  results: Array<{ account: string; exitCode: number; status: string }>;
}

const TOKENS = ['IGAAfleet-one-7c1d9e', 'IGAAfleet-two-4b8a2f', 'IGAAfleet-three-9e5c3d'];
const NAMES = ['shop-a', 'shop-b', 'shop-c'];
const FLEET_NAMING: FleetNaming = {
  name: (i) => NAMES[i] ?? `shop-${i}`,
  tokenEnv: (i) => `IG_FLEET_TOKEN_${i + 1}`,
};
/** Each account's own limit; the export paces each account at 75 % of it. */
const LIMIT = 20;

function parseLines(stdout: string): { accounts: AccountLine[]; fleet: FleetLine } {
  const lines = stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const fleet = lines.pop() as unknown as FleetLine;
  expect(fleet.fleet).toBe(true);
  return { accounts: lines as unknown as AccountLine[], fleet };
}

describe('many accounts in one command (spawned CLI against a three-account sandbox)', () => {
  let fleet: SandboxFleet;
  let config: string;
  let out: string;
  const env = (tokens: readonly string[] = TOKENS): Record<string, string> =>
    Object.fromEntries(tokens.map((t, i) => [`IG_FLEET_TOKEN_${i + 1}`, t]));

  beforeAll(async () => {
    fleet = await createSandboxFleet(
      TOKENS.map((token, i) => ({
        token,
        seed: 900 + i,
        conversations: 10 + i * 4,
        maxMessagesPerConversation: 60,
        rateLimit: { callsPerSecond: LIMIT },
      })),
    );
    out = await mkdtemp(join(tmpdir(), 'ig-export-fleet-'));
    config = await writeFleetConfig(out, fleet, { 'max-rps': LIMIT * 0.75 }, FLEET_NAMING);
  });
  afterAll(async () => {
    await fleet.close();
    await rm(out, { recursive: true, force: true });
  });

  it('exports every account concurrently, each within its own rate limit, with a line per account and a fleet line', async () => {
    const r = await runCli(['export', '--config', config, '--json'], { env: env() });
    expect(r.code).toBe(0);
    const { accounts, fleet: line } = parseLines(r.stdout);
    expect(accounts.map((a) => a.account).sort()).toEqual(NAMES);
    for (const [i, sandbox] of fleet.accounts.entries()) {
      const a = accounts.find((x) => x.account === NAMES[i]);
      expect(a).toMatchObject({ status: 'complete', exitCode: 0, accountId: sandbox.data.account.userId });
      expect(a?.snapshotDir).toContain(`account=${sandbox.data.account.userId}`);
      // Every call of this account reached this account's sandbox, and none was throttled by its limit.
      expect(sandbox.stats.requests.length).toBe(a?.calls);
      expect(sandbox.stats.throttled).toBe(0);
    }
    expect(line).toMatchObject({ status: 'complete', exitCode: 0, accounts: 3, complete: 3, failed: 0 });
    expect(line.calls).toBe(accounts.reduce((s, a) => s + (a.calls ?? 0), 0));
    // Concurrently: every account was still being exported when the last one started.
    const spans = fleet.accounts.map((s) => ({
      first: s.stats.requests[0]?.t ?? Infinity,
      last: s.stats.requests.at(-1)?.t ?? -Infinity,
    }));
    expect(Math.max(...spans.map((s) => s.first))).toBeLessThan(Math.min(...spans.map((s) => s.last)));
    // No token in any output or file.
    const files = await allFiles(out);
    for (const token of TOKENS) {
      expect(r.stdout + r.stderr).not.toContain(token);
      for (const f of files) expect(f.bytes.includes(token), f.path).toBe(false);
    }
    // Log lines name their account.
    expect(r.stderr.split('\n').filter((l) => l.includes('"msg"') && !l.includes('"account"'))).toEqual([]);
  });

  it('keeps going when one account fails: the others publish, the exit code is the worst by the documented order', async () => {
    for (const s of fleet.accounts) s.resetStats();
    const locked = fleet.accounts[2]?.data.account.userId ?? '';
    const release = await acquireRunLock(accountLockDir(join(out, 'archive', '_state'), locked), () =>
      Date.now(),
    );
    try {
      // shop-b's token is refused (3), shop-c is locked by another run (5): 3 is the worse.
      const r = await runCli(['export', '--config', config, '--json', '--full'], {
        env: env([TOKENS[0] ?? '', 'IGAAfleet-revoked-000000', TOKENS[2] ?? '']),
      });
      const { accounts, fleet: line } = parseLines(r.stdout);
      const byName = Object.fromEntries(accounts.map((a) => [a.account, a]));
      expect(byName['shop-a']).toMatchObject({ status: 'complete', exitCode: 0 });
      expect(byName['shop-b']).toMatchObject({ status: 'failed', exitCode: 3, error: { kind: 'auth' } });
      expect(byName['shop-c']).toMatchObject({ status: 'failed', exitCode: 5, error: { kind: 'locked' } });
      expect(line).toMatchObject({ status: 'partial', exitCode: 3, complete: 1, failed: 2 });
      expect(r.code).toBe(3);
      // The locked account cost no call; the one complete account made its whole export.
      expect(fleet.accounts[2]?.stats.requests).toHaveLength(0);
      expect(fleet.accounts[0]?.stats.requests.length).toBeGreaterThan(2);
      expect(r.stdout + r.stderr).not.toContain('IGAAfleet-revoked-000000');
    } finally {
      await release();
    }
  });

  it("names an account's unreadable token_file by its key, not as the --token-file flag (export, doctor)", async () => {
    const given = JSON.parse(await readFile(config, 'utf8')) as { accounts: Array<Record<string, string>> };
    const missing = join(out, 'no-such-token');
    const withFile = join(out, 'fleet-token-file.json');
    const [first] = given.accounts;
    await writeFile(
      withFile,
      JSON.stringify({
        ...given,
        accounts: [{ name: first?.name, account: first?.account, token_file: missing }],
      }),
    );
    const r = await runCli(['export', '--config', withFile], { env: env() });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(
      `[shop-a] FAILED (exit 2): cannot read token_file ${missing} (ENOENT): no such file; check the path`,
    );
    const doctor = await runCli(['doctor', '--config', withFile], { env: env() });
    expect(doctor.code).toBe(2);
    expect(doctor.stdout).toMatch(/FAIL +\[shop-a\] token +cannot read token_file \S+ \(ENOENT\)/);
  });

  it('splits the fleet by --shard without overlap, and --accounts picks by name', async () => {
    const shards = await Promise.all(
      ['0/2', '1/2'].map(async (shard) => {
        const r = await runCli(['export', '--config', config, '--json', '--shard', shard], { env: env() });
        expect(r.code).toBe(0);
        const { accounts, fleet: line } = parseLines(r.stdout);
        expect(line.shard).toBe(shard);
        return accounts.map((a) => a.account);
      }),
    );
    expect([...(shards[0] ?? []), ...(shards[1] ?? [])].sort()).toEqual(NAMES);

    const picked = await runCli(['export', '--config', config, '--json', '--accounts', 'shop-c,shop-a'], {
      env: env(),
    });
    expect(
      parseLines(picked.stdout)
        .accounts.map((a) => a.account)
        .sort(),
    ).toEqual(['shop-a', 'shop-c']);

    const typo = await runCli(['export', '--config', config, '--accounts', 'shop-x'], { env: env() });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(
      /no account named "shop-x" in the config file \(it lists shop-a, shop-b, shop-c\)/,
    );
  });

  it('doctor checks every account of the fleet and exits with the worst', async () => {
    const r = await runCli(['doctor', '--config', config, '--json'], {
      env: env([TOKENS[0] ?? '', 'IGAAfleet-revoked-000000', TOKENS[2] ?? '']),
    });
    const line = JSON.parse(r.stdout) as {
      status: string;
      exitCode: number;
      checks: Array<{ account?: string; name: string; ok: boolean; detail: string }>;
    };
    expect(r.code).toBe(3);
    expect(line.status).toBe('failed');
    for (const name of NAMES)
      expect(line.checks.some((c) => c.account === name && c.name === 'token')).toBe(true);
    const failed = line.checks.filter((c) => !c.ok);
    expect(failed.map((c) => c.account)).toEqual(['shop-b']);
    expect(failed[0]?.detail).toMatch(/access token is invalid/);
    // The advice names where shop-b's token came from, not IG_ACCESS_TOKEN.
    expect(failed[0]?.detail).toMatch(/check IG_FLEET_TOKEN_2 and/);
    expect(r.stdout + r.stderr).not.toContain('IGAAfleet-revoked-000000');
  });

  it('a SIGTERM stops the fleet: running accounts publish a partial snapshot, waiting ones never start, exit 130', async () => {
    let child: RunningCli | undefined;
    const slow = await createSandboxFleet(
      [0, 1].map((i) => ({
        token: TOKENS[i] ?? '',
        seed: 950 + i,
        conversations: 30,
        maxMessagesPerConversation: 40,
        rateLimit: { callsPerSecond: 0 },
        // The fifth call of the first account stops the fleet.
        onRequest: (e: { seq: number }) => {
          if (i === 0 && e.seq === 4) child?.child.kill('SIGTERM');
        },
      })),
    );
    try {
      const dir = await mkdtemp(join(tmpdir(), 'ig-export-fleet-stop-'));
      const file = await writeFleetConfig(
        dir,
        slow,
        { 'max-rps': 10, 'account-concurrency': 1 },
        FLEET_NAMING,
      );
      child = spawnCli(['export', '--config', file, '--json'], { env: env() });
      const r = await child.result;
      const { accounts, fleet: line } = parseLines(r.stdout);
      expect(accounts.find((a) => a.account === 'shop-a')).toMatchObject({ status: 'partial', exitCode: 4 });
      expect(accounts.find((a) => a.account === 'shop-b')).toMatchObject({
        status: 'failed',
        exitCode: 130,
        error: { kind: 'interrupted' },
      });
      expect(slow.accounts[1]?.stats.requests).toHaveLength(0);
      expect(line.exitCode).toBe(130);
      expect(r.code).toBe(130);
      await rm(dir, { recursive: true, force: true });
    } finally {
      await slow.close();
    }
  });
});

describe('a fleet of a dozen accounts at once', () => {
  it('prints no MaxListenersExceededWarning (every request and account listens to the one stop signal)', async () => {
    const tokens = Array.from({ length: 12 }, (_, i) => `IGAAdozen-${i}-5f2e8a9c`);
    const dozen = await createSandboxFleet(
      tokens.map((token, i) => ({
        token,
        seed: 950 + i,
        conversations: 3,
        maxMessagesPerConversation: 30,
        rateLimit: { callsPerSecond: 0 },
      })),
    );
    const dir = await mkdtemp(join(tmpdir(), 'ig-export-dozen-'));
    try {
      const config = await writeFleetConfig(
        dir,
        dozen,
        { 'max-rps': 100, 'account-concurrency': 12 },
        { name: (i) => `shop-${i}`, tokenEnv: (i) => `IG_DOZEN_TOKEN_${i}` },
      );
      const env = Object.fromEntries(tokens.map((t, i) => [`IG_DOZEN_TOKEN_${i}`, t]));
      const r = await runCli(['export', '--config', config, '--json'], { env });
      expect(r.code).toBe(0);
      expect(r.stderr).not.toContain('MaxListenersExceededWarning');
    } finally {
      await dozen.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a fleet larger than the open-file limit allows', () => {
  it('is refused before any account starts, naming the limit and the concurrency that fits', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ig-export-fdlimit-'));
    try {
      const accounts = Array.from({ length: 30 }, (_, i) => ({
        name: `shop${i}`,
        account: `178414000000${String(i).padStart(5, '0')}`,
        token_env: `IG_FLEET_TOKEN_${i}`,
      }));
      const config = join(dir, 'fleet.json');
      await writeFile(
        config,
        JSON.stringify({ 'base-url': 'http://127.0.0.1:9', output: join(dir, 'out'), accounts }),
      );
      // The limit a user's shell (or systemd's LimitNOFILE=) would set, lowered for this one run.
      const cli = join(REPO_ROOT, 'dist', 'cli', 'main.js');
      const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        execFile(
          'sh',
          [
            '-c',
            `ulimit -n 150; exec "${process.execPath}" "${cli}" export --config "${config}" --account-concurrency 30`,
          ],
          (error, _stdout, stderr) => resolve({ code: error ? (error.code as number) : 0, stderr }),
        );
      });
      expect(r.code).toBe(2);
      expect(r.stderr.split('\n')[0]).toBe(
        'ig-export: 30 accounts at once need about 202 open files and this process may open 150: raise the limit (ulimit -n 202, or LimitNOFILE= in a systemd unit) or lower --account-concurrency to 12',
      );
      await expect(readdir(join(dir, 'out'))).rejects.toThrow(/ENOENT/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
