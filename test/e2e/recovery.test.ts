import { existsSync } from 'node:fs';
import { chmod, open, writeFile } from 'node:fs/promises';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/export-options.js';
import { exportArgs, runCli } from '../helpers/run-cli.js';
import { startSandbox, TEST_TOKEN } from '../helpers/sandbox-fixture.js';
import { remountReadOnly, smallDisk } from '../helpers/small-disk.js';

function lastJson(stdout: string): Record<string, unknown> {
  return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

describe('recovery is named, not "please report it"', () => {
  it('a damaged state file: exit 2 naming it and --rebuild-state; with it, the run rebuilds and completes', async () => {
    const sandbox = await startSandbox({ seed: 9, conversations: 5 });
    const out = await tempDir();
    const env = { IG_ACCESS_TOKEN: TEST_TOKEN };
    expect((await runCli(exportArgs(sandbox.url, out), { env })).code).toBe(0);
    const state = join(out, '_state', `account=${sandbox.data.account.userId}.sqlite`);
    await writeFile(state, 'this is not a database, it is a text file of some length '.repeat(100));
    const broken = await runCli(exportArgs(sandbox.url, out), { env });
    expect(broken.code).toBe(2);
    expect(lastJson(broken.stdout)).toMatchObject({
      status: 'failed',
      exitCode: 2,
      error: { kind: 'state' },
    });
    expect(broken.stderr).toContain(`the run state ${state} cannot be read`);
    expect(broken.stderr).toContain('--rebuild-state');
    const rebuilt = await runCli(exportArgs(sandbox.url, out, '--rebuild-state'), { env });
    expect(rebuilt.code).toBe(0);
    // Rebuilt from the published snapshot: nothing changed since, so nothing new is exported.
    expect(lastJson(rebuilt.stdout)).toMatchObject({ status: 'complete', mode: 'incremental' });
  });

  it('a current view altered after compact: verify and compact exit 9, compact --rebuild mends it', async () => {
    const sandbox = await startSandbox({ seed: 9, conversations: 5 });
    const out = await tempDir();
    expect((await runCli(exportArgs(sandbox.url, out), { env: { IG_ACCESS_TOKEN: TEST_TOKEN } })).code).toBe(
      0,
    );
    expect((await runCli(['compact', '--output', out])).code).toBe(0);
    expect((await runCli(['verify', out])).code).toBe(0);
    const file = join(out, 'current', `account=${sandbox.data.account.userId}`, 'messages.parquet');
    const handle = await open(file, 'r+');
    await handle.write(Buffer.from([0x42]), 0, 1, 300);
    await handle.close();
    const verify = await runCli(['verify', out]);
    expect(verify.code).toBe(9);
    expect(verify.stdout).toMatch(/ALTERED .*current\/account=\d+/);
    const compact = await runCli(['compact', '--output', out, '--json']);
    expect(compact.code).toBe(9);
    expect((lastJson(compact.stdout)['error'] as { message: string }).message).toContain('compact --rebuild');
    expect((await runCli(['compact', '--output', out, '--rebuild'])).code).toBe(0);
    expect((await runCli(['verify', out])).code).toBe(0);
  });

  it('a snapshot altered before compact: compact exits 9 naming it and the file, and folds nothing', async () => {
    const sandbox = await startSandbox({ seed: 9, conversations: 5 });
    const out = await tempDir();
    const env = { IG_ACCESS_TOKEN: TEST_TOKEN };
    const exported = await runCli(exportArgs(sandbox.url, out), { env });
    expect(exported.code).toBe(0);
    const snapshot = lastJson(exported.stdout)['snapshotDir'] as string;
    const handle = await open(join(snapshot, 'conversations.parquet'), 'r+');
    await handle.write(Buffer.from([0x42]), 0, 1, 100);
    await handle.close();
    const compact = await runCli(['compact', '--output', out, '--json']);
    expect(compact.code).toBe(9);
    const message = (lastJson(compact.stdout)['error'] as { message: string }).message;
    expect(message).toContain(
      `the snapshot ${snapshot} is not what its manifest says (conversations.parquet:`,
    );
    expect(compact.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(out, 'current', `account=${sandbox.data.account.userId}`))).toBe(false);
  });

  it('a watermark later than now is refused as a damaged state, not taken for "nothing new"', async () => {
    const sandbox = await startSandbox({ seed: 9, conversations: 5 });
    const out = await tempDir();
    const env = { IG_ACCESS_TOKEN: TEST_TOKEN };
    expect((await runCli(exportArgs(sandbox.url, out), { env })).code).toBe(0);
    const state = join(out, '_state', `account=${sandbox.data.account.userId}.sqlite`);
    const db = new Database(state);
    db.prepare('UPDATE account SET watermark_ms = ? WHERE id = 1').run(Date.UTC(2100, 0, 1));
    db.close();
    const result = await runCli(exportArgs(sandbox.url, out), { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('watermark 2100-01-01T00:00:00.000Z is later than now');
    expect((await runCli(exportArgs(sandbox.url, out, '--rebuild-state'), { env })).code).toBe(0);
  });

  it('a token file others can read gets a warning naming the fix', async () => {
    const sandbox = await startSandbox({ seed: 9, conversations: 2 });
    const dir = await tempDir();
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, `${TEST_TOKEN}\n`, { mode: 0o644 });
    await chmod(tokenFile, 0o644);
    const result = await runCli(exportArgs(sandbox.url, join(dir, 'out'), '--token-file', tokenFile));
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(
      `--token-file ${tokenFile} can be read by other users of this machine (mode 644): chmod 600`,
    );
    await chmod(tokenFile, 0o600);
    const quiet = await runCli(exportArgs(sandbox.url, join(dir, 'out'), '--token-file', tokenFile));
    expect(quiet.stderr).not.toContain('can be read by other users');
  });

  it('prune --dry-run works on a read-only archive', async (ctx) => {
    const disk = await smallDisk(16 * 1024);
    if (disk === undefined) return ctx.skip();
    const sandbox = await startSandbox({ seed: 9, conversations: 3 });
    const out = join(disk, 'out');
    expect((await runCli(exportArgs(sandbox.url, out), { env: { IG_ACCESS_TOKEN: TEST_TOKEN } })).code).toBe(
      0,
    );
    await remountReadOnly(disk);
    const dry = await runCli(['prune', '--keep', '1', '--dry-run', '--output', out, '--json']);
    expect(dry.code).toBe(0);
    expect(lastJson(dry.stdout)).toMatchObject({ status: 'complete', dryRun: true });
    expect((await runCli(['prune', '--keep', '1', '--output', out, '--json'])).code).toBe(8);
  });
});
