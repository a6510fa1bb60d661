import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { tempDir } from '../helpers/export-options.js';
import { exportArgs, runCli, spawnCli } from '../helpers/run-cli.js';

const lastJson = (stdout: string): Record<string, unknown> =>
  JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;

describe('ig-export import-dyi, as a user runs it', () => {
  it('sandbox --dyi-archive, export, import-dyi, compact; a second import changes nothing; wrong inputs exit 2 in one line', async () => {
    const dir = await tempDir();
    const zip = join(dir, 'dyi.zip');
    const out = join(dir, 'out');
    const sandbox = spawnCli([
      'sandbox',
      '--port',
      '0',
      '--rate-limit',
      '0',
      '--conversations',
      '12',
      '--dyi-archive',
      zip,
    ]);
    try {
      await sandbox.waitForStdout(/Download your information" archive/);
      const url = /listening on (http:\/\/\S+)/.exec(sandbox.stdoutSoFar())![1]!;
      const exported = await runCli(exportArgs(url, out), { env: { IG_ACCESS_TOKEN: 'sandbox-token' } });
      expect(exported.code).toBe(0);

      const first = await runCli(['import-dyi', zip, '--output', out, '--json']);
      expect(first.code).toBe(0);
      const summary = lastJson(first.stdout);
      expect(summary).toMatchObject({ status: 'complete', ambiguous: 0, threads: { unmatched: 0 } });
      expect(summary['matched']).toBeGreaterThan(0);
      expect(summary['snapshotDir']).toEqual(expect.stringContaining('snapshot='));

      const again = await runCli(['import-dyi', zip, '--output', out, '--json']);
      expect(lastJson(again.stdout)).toMatchObject({ status: 'unchanged', snapshotDir: null });
      expect((await runCli(['compact', '--output', out])).code).toBe(0);
      expect((await runCli(['verify', out])).code).toBe(0);

      const garbage = join(dir, 'garbage.zip');
      await writeFile(garbage, 'not a zip');
      for (const args of [
        ['import-dyi', join(dir, 'missing.zip'), '--output', out],
        ['import-dyi', garbage, '--output', out],
        ['import-dyi', zip, '--output', out, '--account', '123'],
        ['import-dyi', zip, '--output', join(dir, 'empty')],
        ['import-dyi', dir, '--output', out], // a folder without the archive's threads
      ]) {
        const r = await runCli(args);
        expect(r.code, args.join(' ')).toBe(2);
        expect(r.stderr.split('\n')[0]).toMatch(/^ig-export: .+/);
        expect(r.stderr).not.toMatch(/\n\s+at /);
      }
      // A wrong folder is answered at once: only the places Meta puts threads are listed, never the whole tree (a
      // recursive listing of /proc did not end). A regression must not leave that process spinning after the test.
      const proc = spawnCli(['import-dyi', '/proc', '--output', out]);
      onTestFinished(() => void proc.child.kill('SIGKILL'));
      const wrongFolder = await proc.result;
      expect(wrongFolder.code).toBe(2);
      expect(wrongFolder.stderr).toMatch(/^ig-export: \/proc holds no message threads/);

      const json = await runCli(['import-dyi', garbage, '--output', out, '--json']);
      expect(lastJson(json.stdout)).toMatchObject({ status: 'failed', exitCode: 2 });
    } finally {
      sandbox.child.kill('SIGTERM');
      await sandbox.result;
    }
  });
});
