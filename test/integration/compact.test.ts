import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compactAccount } from '../../src/pipeline/compact-current-view.js';
import { DEFAULT_PARQUET_OPTIONS } from '../../src/writers/parquet-writer.js';
import { exportSandbox, tempDir } from '../helpers/export-options.js';
import { byKey, expectedConversationRows, parseJsonColumns } from '../helpers/expected-rows.js';
import { duckdbQuery } from '../helpers/parquet-readers.js';
import { runCli } from '../helpers/run-cli.js';
import { startSandbox } from '../helpers/sandbox-fixture.js';
import { VirtualClock } from '../helpers/virtual-clock.js';

describe('compact: the current view', () => {
  it('over 20 snapshots holds exactly one row per message, matching the sandbox', async () => {
    const clock = new VirtualClock();
    const sandbox = await startSandbox({
      seed: 51,
      conversations: 25,
      maxMessagesPerConversation: 120,
      now: () => clock.now(),
    });
    const out = await tempDir();
    // What the first (full) run can read: the 20 most recent of each conversation at that time.
    const readableAtFirstRun = new Set(
      sandbox.data.conversations.flatMap((c) => c.messages.slice(0, 20).map((m) => m.id)),
    );
    await exportSandbox(sandbox, out, {}, { clock });
    const added = new Set<string>();
    for (let run = 1; run < 20; run++) {
      clock.advance(3_600_000);
      const c = sandbox.data.conversations[(run * 5) % sandbox.data.conversations.length]!;
      for (const m of sandbox.addMessages(c.id, (run % 7) + 1)) added.add(m.id);
      await exportSandbox(sandbox, out, {}, { clock });
    }
    const accountId = sandbox.data.account.userId;
    const result = await compactAccount(out, accountId, DEFAULT_PARQUET_OPTIONS, () => clock.now());
    expect(result.snapshots).toBe(20);

    const path = join(result.dir, 'messages.parquet');
    const rows = await duckdbQuery(`SELECT * EXCLUDE (position, snapshot_id, extracted_at, created_time),
        strftime(created_time AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ') AS created_time
        FROM read_parquet('${path}', hive_partitioning = false)`);
    const all = sandbox.data.conversations.flatMap((c) => c.messages.map((m) => ({ c, m })));
    expect(rows).toHaveLength(all.length);
    expect(new Set(rows.map((r) => r['message_id'])).size).toBe(all.length);
    const expected = all.map(({ c, m }) => {
      // New messages arrived a few at a time, so every one of them was read while in the window.
      const readable =
        readableAtFirstRun.has(m.id) ||
        (!sandbox.data.conversations.some(() => false) && m.createdMs > Date.UTC(2026, 10, 20, 12));
      const status = !readable ? 'outside_window' : m.unsent ? 'unavailable' : 'hydrated';
      const hydrated = status === 'hydrated';
      const carried: Record<string, unknown> = {};
      if (m.attachments) carried['attachments'] = m.attachments;
      if (m.shares) carried['shares'] = m.shares;
      if (m.story) carried['story'] = m.story;
      return parseJsonColumns({
        account_id: accountId,
        conversation_id: c.id,
        message_id: m.id,
        created_time: new Date(m.createdMs).toISOString(),
        hydration_status: status,
        from_id: hydrated ? m.from.id : null,
        from_username: hydrated ? (m.from.username ?? null) : null,
        to_id: hydrated ? m.to.id : null,
        to_username: hydrated ? (m.to.username ?? null) : null,
        message: hydrated ? m.text : null,
        attachments: hydrated && Object.keys(carried).length > 0 ? JSON.stringify(carried) : null,
        reactions: hydrated && m.reactions ? JSON.stringify(m.reactions) : null,
        is_unsupported: hydrated ? m.isUnsupported === true : null,
      });
    });
    expect(byKey(rows.map(parseJsonColumns), 'message_id')).toEqual(byKey(expected, 'message_id'));

    const conversations = await duckdbQuery(
      `SELECT conversation_id, message_count FROM read_parquet('${join(result.dir, 'conversations.parquet')}', hive_partitioning = false)`,
    );
    expect(byKey(conversations, 'conversation_id')).toEqual(
      byKey(
        expectedConversationRows(sandbox).map((c) => ({
          conversation_id: c['conversation_id'],
          message_count: c['message_count'],
        })),
        'conversation_id',
      ),
    );
    const types = await duckdbQuery(
      `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM '${path}')`,
    );
    expect(types.find((t) => t['column_name'] === 'created_time')?.['column_type']).toBe(
      'TIMESTAMP WITH TIME ZONE',
    );
  });

  it('runs from the CLI, and after an export with --compact', async () => {
    const sandbox = await startSandbox({ seed: 52, conversations: 6 });
    const out = await tempDir();
    const env = { IG_ACCESS_TOKEN: sandbox.options.token };
    const exported = await runCli(
      ['export', '--base-url', sandbox.url, '--output', out, '--max-rps', '500', '--compact'],
      { env },
    );
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stderr).toMatch(/current view rebuilt from 1 snapshots/);
    const compacted = await runCli(['compact', '--output', out, '--json']);
    expect(compacted.code, compacted.stderr).toBe(0);
    const summary = JSON.parse(compacted.stdout) as {
      current: Array<{ accountId: string; rows: Record<string, number> }>;
    };
    expect(summary.current).toEqual([
      {
        accountId: sandbox.data.account.userId,
        dir: join(out, 'current', `account=${sandbox.data.account.userId}`),
        snapshots: 1,
        rows: {
          'messages.parquet': sandbox.data.conversations.reduce((a, c) => a + c.messages.length, 0),
          'conversations.parquet': 6,
        },
      },
    ]);
  });
});
