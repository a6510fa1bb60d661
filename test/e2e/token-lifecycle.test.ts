import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordTokenLifetime } from '../../src/state/token-lifetimes.js';
import { tempDir } from '../helpers/export-options.js';
import { allFiles, exportArgs, runCli } from '../helpers/run-cli.js';
import { startSandbox, TEST_TOKEN } from '../helpers/sandbox-fixture.js';

/** `ig-export token refresh` of `file` against the sandbox, its state under `out`. */
const refreshArgs = (file: string, baseUrl: string, out: string): string[] => [
  'token',
  'refresh',
  '--token-file',
  file,
  '--base-url',
  baseUrl,
  '--output',
  out,
];

async function tokenFileWith(token: string): Promise<string> {
  const path = join(await tempDir(), 'token');
  await writeFile(path, `${token}\n`, { mode: 0o600 });
  return path;
}

/** Nothing printed or written under `out` holds any token the sandbox ever accepted. */
async function expectNoToken(out: string, printed: string, tokens: Iterable<string>): Promise<void> {
  const files = await allFiles(out);
  for (const token of tokens) {
    expect(printed).not.toContain(token);
    for (const f of files) expect(f.bytes.includes(token), f.path).toBe(false);
  }
}

describe('token lifecycle (spawned CLI)', () => {
  it('token refresh replaces the token file (mode 600), records the expiry, and the next export uses the new token', async () => {
    const sandbox = await startSandbox({ seed: 71, conversations: 4 });
    const file = await tokenFileWith(TEST_TOKEN);
    const out = await tempDir();
    const refreshed = await runCli([...refreshArgs(file, sandbox.url, out), '--json']);
    expect(refreshed.code, refreshed.stderr).toBe(0);
    const line = JSON.parse(refreshed.stdout) as { status: string; expiresAt: string };
    expect(line.status).toBe('complete');
    expect(Date.parse(line.expiresAt) - Date.now()).toBeGreaterThan(59 * 86_400_000);
    const fresh = (await readFile(file, 'utf8')).trim();
    expect(fresh).not.toBe(TEST_TOKEN);
    expect(sandbox.tokens.has(fresh)).toBe(true);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    // The refresh sent the token in the header, never in the URL.
    expect(sandbox.stats.requests.filter((r) => r.endpoint === 'refresh')).toEqual([
      expect.objectContaining({ path: '/refresh_access_token', tokenIn: 'header', status: 200 }),
    ]);
    const before = sandbox.stats.requests.length;
    const exported = await runCli(exportArgs(sandbox.url, out, '--token-file', file));
    expect(exported.code, exported.stderr).toBe(0);
    expect(sandbox.stats.requests.length).toBeGreaterThan(before);
    await expectNoToken(
      out,
      refreshed.stdout + refreshed.stderr + exported.stdout + exported.stderr,
      sandbox.tokens.keys(),
    );
  });

  it('a token too young to refresh exits 3 and says why; the file is untouched', async () => {
    const sandbox = await startSandbox({ seed: 72, conversations: 2, tokenIssuedMs: Date.now() });
    const file = await tokenFileWith(TEST_TOKEN);
    const r = await runCli(refreshArgs(file, sandbox.url, await tempDir()));
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/at least 24 hours old/);
    expect(await readFile(file, 'utf8')).toBe(`${TEST_TOKEN}\n`);
    expect(r.stdout + r.stderr).not.toContain(TEST_TOKEN);
    const noFile = await runCli(['token', 'refresh', '--base-url', sandbox.url]);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toMatch(/needs --token-file/);
  });

  it('export --auto-refresh renews a token of unknown age once, then not again until it nears expiry', async () => {
    const sandbox = await startSandbox({ seed: 73, conversations: 3 });
    const file = await tokenFileWith(TEST_TOKEN);
    const out = await tempDir();
    const first = await runCli(exportArgs(sandbox.url, out, '--token-file', file, '--auto-refresh'));
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/token refreshed in .*; it expires at/);
    const renewed = (await readFile(file, 'utf8')).trim();
    expect(renewed).not.toBe(TEST_TOKEN);
    const second = await runCli(exportArgs(sandbox.url, out, '--token-file', file, '--auto-refresh'));
    expect(second.code, second.stderr).toBe(0);
    expect(sandbox.stats.requests.filter((r) => r.endpoint === 'refresh')).toHaveLength(1);
    expect((await readFile(file, 'utf8')).trim()).toBe(renewed);
    // --auto-refresh with the token in the environment cannot write it back.
    const env = await runCli(exportArgs(sandbox.url, out, '--auto-refresh'), {
      env: { IG_ACCESS_TOKEN: renewed },
    });
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/--auto-refresh needs --token-file/);
    await expectNoToken(
      out,
      first.stdout + first.stderr + second.stdout + second.stderr,
      sandbox.tokens.keys(),
    );
  });

  it('without --auto-refresh, a run warns when the recorded expiry is within 7 days', async () => {
    const sandbox = await startSandbox({ seed: 74, conversations: 2 });
    const out = await tempDir();
    await recordTokenLifetime(join(out, '_state'), TEST_TOKEN, {
      obtainedMs: Date.now() - 55 * 86_400_000,
      expiresMs: Date.now() + 3 * 86_400_000 + 3_600_000,
    });
    const r = await runCli(exportArgs(sandbox.url, out), { env: { IG_ACCESS_TOKEN: TEST_TOKEN } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/the access token expires in 3 days .*token refresh --token-file/);
  });
});
