import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportSandbox, tempDir } from '../helpers/export-options.js';
import { byKey, expectedMessageRows, parseJsonColumns } from '../helpers/expected-rows.js';
import { duckdbQuery } from '../helpers/parquet-readers.js';
import { runCli } from '../helpers/run-cli.js';
import { startSandbox } from '../helpers/sandbox-fixture.js';
import { VirtualClock } from '../helpers/virtual-clock.js';

describe('retention: prune never removes the only copy of a row', () => {
  it('refuses until compacted, removes with --compact, and the current view keeps every message after pruning', async () => {
    const clock = new VirtualClock(); // 2026-11-27: every snapshot is in the past of the real clock
    const sandbox = await startSandbox({
      seed: 71,
      conversations: 12,
      maxMessagesPerConversation: 60,
      now: () => clock.now(),
    });
    const out = await tempDir();
    const readable = new Set(
      sandbox.data.conversations.flatMap((c) => c.messages.slice(0, 20).map((m) => m.id)),
    );
    const exportOnce = async (): Promise<void> => {
      const s = await exportSandbox(sandbox, out, {}, { clock });
      expect(s.status).toBe('complete');
    };
    const addAndExport = async (run: number): Promise<void> => {
      clock.advance(3_600_000);
      const c = sandbox.data.conversations[(run * 5) % sandbox.data.conversations.length]!;
      for (const m of sandbox.addMessages(c.id, 3)) readable.add(m.id);
      await exportOnce();
    };
    await exportOnce();
    for (let run = 1; run < 6; run++) await addAndExport(run);
    const accountDir = join(out, `account=${sandbox.data.account.userId}`);
    const snapshots = async (): Promise<string[]> =>
      (await readdir(accountDir)).filter((n) => n.startsWith('snapshot=')).sort();
    const all = await snapshots();
    expect(all).toHaveLength(6);

    const refused = await runCli(['prune', '--output', out, '--keep', '2', '--json']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/refusing to prune .* Run "ig-export compact" first, or pass --compact/);
    expect(JSON.parse(refused.stdout)).toMatchObject({ status: 'failed', exitCode: 2 });
    expect(await snapshots()).toEqual(all);

    const dry = await runCli(['prune', '--output', out, '--keep', '2', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/Would remove 4 snapshots .*\n {2}4 of them are not in the current view yet/);
    expect(await snapshots()).toEqual(all);

    const pruned = await runCli(['prune', '--output', out, '--keep', '2', '--compact', '--json']);
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(JSON.parse(pruned.stdout)).toMatchObject({
      status: 'complete',
      exitCode: 0,
      accounts: [{ removed: all.slice(0, 4).map((n) => n.slice('snapshot='.length)), kept: 2 }],
    });
    expect(await snapshots()).toEqual(all.slice(4));

    // More runs after the prune; the next compaction still holds every message, with the text read years ago.
    for (let run = 6; run < 9; run++) await addAndExport(run);
    const compacted = await runCli(['compact', '--output', out]);
    expect(compacted.code, compacted.stderr).toBe(0);
    const rows = await duckdbQuery(`SELECT * EXCLUDE (position, snapshot_id, extracted_at, created_time),
        strftime(created_time AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ') AS created_time
        FROM read_parquet('${join(out, 'current', `account=${sandbox.data.account.userId}`, 'messages.parquet')}', hive_partitioning = false)`);
    const expected = expectedMessageRows(sandbox, (id) => readable.has(id)).map(
      ({ position: _p, ...r }) => r,
    );
    expect(byKey(rows.map(parseJsonColumns), 'message_id')).toEqual(byKey(expected, 'message_id'));

    // An age: every snapshot is older than a minute by the real clock; the newest is always kept.
    const byAge = await runCli(['prune', '--output', out, '--keep', '1m', '--compact', '--json']);
    expect(byAge.code, byAge.stderr).toBe(0);
    expect(await snapshots()).toHaveLength(1);

    const unknown = await runCli(['compact', '--output', out, '--account', '123']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(
      `no snapshots of account 123 under ${out}; accounts there: ${sandbox.data.account.userId}`,
    );
  });

  it('rejects a --keep it cannot read', async () => {
    const out = await tempDir();
    const bad = await runCli(['prune', '--output', out, '--keep', 'forever']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--keep forever: give a number of snapshots/);
  });
});
