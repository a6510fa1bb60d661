import { copyFile, mkdir, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/export-options.js';
import { exportArgs, runCli } from '../helpers/run-cli.js';
import { startSandbox, TEST_TOKEN } from '../helpers/sandbox-fixture.js';

const VICTIM = 'VICTIM-CONTENT: must never be overwritten';

async function setup() {
  const sandbox = await startSandbox({ seed: 5, conversations: 4 });
  const out = await tempDir();
  const outside = await tempDir();
  const victim = join(outside, 'victim');
  await writeFile(victim, VICTIM);
  const id = sandbox.data.account.userId;
  const exportCli = (...more: string[]) =>
    runCli(exportArgs(sandbox.url, out, ...more), { env: { IG_ACCESS_TOKEN: TEST_TOKEN } });
  return { sandbox, out, outside, victim, id, exportCli };
}

function failure(stdout: string): { exitCode: number; error: { kind: string; message: string } } {
  return JSON.parse(stdout.trim().split('\n').pop()!) as {
    exitCode: number;
    error: { kind: string; message: string };
  };
}

describe('nothing is written through a link planted where ig-export writes', () => {
  it('the lock owner file: replaced, the link target untouched', async () => {
    const { out, victim, id, exportCli } = await setup();
    await mkdir(join(out, '_state'), { recursive: true });
    await symlink(victim, join(out, '_state', `account=${id}.owner.json`));
    const result = await exportCli();
    expect(result.code).toBe(0);
    expect(await readFile(victim, 'utf8')).toBe(VICTIM);
  });

  it.each(['', '-journal', '-wal'])(
    'the state database%s: exit 8 naming it, nothing created outside',
    async (suffix) => {
      const { out, outside, id, exportCli } = await setup();
      await mkdir(join(out, '_state'), { recursive: true });
      const link = join(out, '_state', `account=${id}.sqlite${suffix}`);
      await symlink(join(outside, 'state.sqlite'), link); // dangling: SQLite would create it there
      const result = await exportCli();
      expect(result.code).toBe(8);
      expect(failure(result.stdout).error.message).toContain(`${link}: ESYMLINK, it is a symbolic link`);
      expect(await readdir(outside)).toEqual(['victim']);
    },
  );

  it('an account folder that is a link is refused by export, verify, compact and prune alike', async () => {
    const { out, outside, id, exportCli } = await setup();
    const first = await exportCli();
    expect(first.code).toBe(0);
    // Move the account's folder out and leave a link in its place.
    const moved = join(outside, 'account');
    await runCli(['verify', out]); // intact before
    await rename(join(out, `account=${id}`), moved);
    await symlink(moved, join(out, `account=${id}`));
    const before = await readdir(moved);
    for (const args of [
      null,
      ['verify', out, '--json'],
      ['compact', '--output', out, '--json'],
      ['prune', '--keep', '1', '--output', out, '--json'],
    ]) {
      const result = args === null ? await exportCli('--full') : await runCli(args);
      expect(result.code, args?.[0] ?? 'export').toBe(8);
      expect(failure(result.stdout).error.message).toContain(`account=${id}: ESYMLINK`);
    }
    expect(await readdir(moved)).toEqual(before);
  });

  it('the current view folder: compact refuses it', async () => {
    const { out, outside, id, exportCli } = await setup();
    expect((await exportCli()).code).toBe(0);
    await mkdir(join(out, 'current'), { recursive: true });
    await symlink(outside, join(out, 'current', `account=${id}`));
    const result = await runCli(['compact', '--output', out, '--json']);
    expect(result.code).toBe(8);
    expect(await readdir(outside)).toEqual(['victim']);
  });

  it('a file of a snapshot replaced by a link to the same bytes fails verify', async () => {
    const { out, outside, id, exportCli } = await setup();
    const first = await exportCli();
    const snapshot = (JSON.parse(first.stdout) as { snapshotDir: string }).snapshotDir;
    await copyFile(join(snapshot, 'report.html'), join(outside, 'report.html'));
    await rm(join(snapshot, 'report.html'));
    await symlink(join(outside, 'report.html'), join(snapshot, 'report.html'));
    const result = await runCli(['verify', join(out, `account=${id}`), '--json']);
    expect(result.code).toBe(9);
    expect(result.stdout).toContain('"kind":"linked"');
  });
});
