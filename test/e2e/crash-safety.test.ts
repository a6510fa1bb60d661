import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireRunLock } from '../../src/state/run-lock.js';
import { tempDir } from '../helpers/export-options.js';
import { byKey, expectedMessageRows, readNdjson, withoutRunColumns } from '../helpers/expected-rows.js';
import { exportArgs, runCli, spawnCli } from '../helpers/run-cli.js';
import { startSandbox, TEST_TOKEN } from '../helpers/sandbox-fixture.js';

const env = { IG_ACCESS_TOKEN: TEST_TOKEN };

describe('crash safety and one run at a time (spawned CLI)', () => {
  it('SIGKILL at many points, then a rerun: the union of the snapshots is the sandbox, nothing duplicated within one', async () => {
    const sandbox = await startSandbox({ seed: 41, conversations: 30, maxMessagesPerConversation: 150 });
    const out = await tempDir();
    const args = exportArgs(sandbox.url, out, '--max-rps', '300', '--checkpoint-conversations', '3');
    for (const killAfter of [3, 25, 60, 110, 170, 240]) {
      const before = sandbox.stats.requests.length;
      const run = spawnCli(args, { env });
      const done = run.result.then(() => true);
      // Kill when this run has made `killAfter` calls (or let it finish, if it needs fewer).
      while (
        sandbox.stats.requests.length - before < killAfter &&
        !(await Promise.race([done, Promise.resolve(false)]))
      ) {
        await new Promise((r) => setTimeout(r, 2));
      }
      run.child.kill('SIGKILL');
      await run.result;
    }
    const final = await runCli(args, { env });
    expect(final.code, final.stderr).toBe(0);

    const accountDir = join(out, `account=${sandbox.data.account.userId}`);
    const names = await readdir(accountDir);
    expect(names.filter((n) => n.startsWith('.'))).toEqual([]); // no temporary directory is left visible
    const snapshots = names.filter((n) => n.startsWith('snapshot='));
    const best = new Map<string, Record<string, unknown>>();
    for (const name of snapshots) {
      const manifest = JSON.parse(await readFile(join(accountDir, name, 'manifest.json'), 'utf8')) as {
        files: Record<string, { rows: number }>;
      };
      const rows = await readNdjson(join(accountDir, name, 'messages.ndjson'));
      expect(rows).toHaveLength(manifest.files['messages.ndjson']!.rows);
      expect(new Set(rows.map((r) => r['message_id'])).size).toBe(rows.length);
      for (const r of rows) {
        const seen = best.get(String(r['message_id']));
        if (!seen || (r['hydration_status'] === 'hydrated' && seen['hydration_status'] !== 'hydrated'))
          best.set(String(r['message_id']), r);
      }
    }
    expect(byKey(withoutRunColumns([...best.values()]), 'message_id')).toEqual(
      byKey(expectedMessageRows(sandbox), 'message_id'),
    );
  });

  it('a second run while one holds the lock exits 5 and names the holder', async () => {
    const sandbox = await startSandbox({ conversations: 2 });
    const out = await tempDir();
    const release = await acquireRunLock(join(out, '_state', `account=${sandbox.data.account.userId}`), () =>
      Date.now(),
    );
    try {
      const result = await runCli(['export', '--base-url', sandbox.url, '--output', out], { env });
      expect(result.code).toBe(5);
      expect(result.stderr).toMatch(new RegExp(`another run is in progress .*pid ${process.pid}`));
      // What to do, in the same line; a holder on this host is checked by the run itself, so no removal advice.
      expect(result.stderr).toMatch(/another run is in progress .*Wait for it to end/);
      expect(result.stderr).not.toMatch(/remove/);
    } finally {
      await release();
    }
  });

  it('a lock held from another host (a shared folder) exits 5 and says when removing it is safe', async () => {
    const sandbox = await startSandbox({ conversations: 2 });
    const out = await tempDir();
    const target = join(out, '_state', `account=${sandbox.data.account.userId}`);
    await mkdir(`${target}.lock`, { recursive: true });
    const owner = { pid: 4242, host: 'cron-host-2', since: new Date().toISOString() };
    await writeFile(`${target}.owner.json`, JSON.stringify(owner));
    const result = await runCli(['export', '--base-url', sandbox.url, '--output', out, '--json'], { env });
    expect(result.code).toBe(5);
    const line = JSON.parse(result.stdout.trim()) as { error: { message: string } };
    expect(line.error.message).toContain('pid 4242 on cron-host-2');
    expect(line.error.message).toContain(`if no run is alive on cron-host-2, remove ${target}.lock`);
    expect(sandbox.stats.requests).toHaveLength(1); // only the account lookup that names the lock
  });

  it('a lock left by a killed run is taken over', async () => {
    const sandbox = await startSandbox({
      conversations: 4,
      maxMessagesPerConversation: 30,
    });
    const out = await tempDir();
    const run = spawnCli(['export', '--base-url', sandbox.url, '--output', out, '--max-rps', '20'], { env });
    await run.waitForStderr(/export of account/);
    run.child.kill('SIGKILL');
    await run.result;
    const lockDir = join(out, '_state');
    expect((await readdir(lockDir)).some((n) => n.endsWith('.lock'))).toBe(true);
    const again = await runCli(
      ['export', '--base-url', sandbox.url, '--output', out, '--max-rps', '20', '--json'],
      { env },
    );
    expect(again.code, again.stderr).toBe(0);
  });
});
