import { describe, expect, it } from 'vitest';
import { runCli, spawnCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/export-options.js';

describe('commands own their options', () => {
  it("export's help is grouped and keeps the tuning knobs for --show-hidden", async () => {
    const help = await runCli(['export', '--help']);
    expect(help.code).toBe(0);
    for (const group of ['Account and token:', 'What to export:', 'Output:'])
      expect(help.stdout).toContain(group);
    expect(help.stdout).toContain('--max-rps');
    expect(help.stdout).not.toContain('--page-size');
    const hidden = await runCli(['export', '--help', '--show-hidden']);
    expect(hidden.stdout).toContain('--page-size');
    expect(hidden.stdout).toContain('--backoff-max-ms');
  });

  it('doctor shows the options it uses and still accepts the rest of an export command line', async () => {
    const help = await runCli(['doctor', '--help']);
    expect(help.stdout).toContain('--token-file');
    expect(help.stdout).toContain('--state-dir');
    expect(help.stdout).not.toContain('--download-media');
    // An export's flags are accepted (no usage error): the failure is the missing token, exit 2 as documented.
    const run = await runCli([
      'doctor',
      '--download-media',
      '--page-size',
      '50',
      '--output',
      await tempDir(),
    ]);
    expect(run.stderr).not.toContain('unknown option');
  });

  it('renamed options keep their old spelling for one release, with one line saying the new name', async () => {
    const demo = await runCli([
      'demo',
      '--output',
      await tempDir(),
      '--conversations',
      '2',
      '--max-rps',
      '300',
      '--log-level',
      'warn',
      '--json',
    ]);
    expect(demo.code).toBe(0);
    expect(demo.stderr).toContain('demo --max-rps is now --rate-limit');
    const sandbox = spawnCli(['sandbox', '--port', '0', '--accounts', '2']);
    try {
      await sandbox.waitForStdout(/with 2 accounts listening/);
    } finally {
      sandbox.child.kill('SIGTERM');
    }
    expect((await sandbox.result).stderr).toContain('sandbox --accounts is now --account-count');
  });
});
