import { cp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importArchive } from '../../src/pipeline/archive-import/import-archive.js';
import { DEFAULT_DYI_ARCHIVE, writeDyiArchive } from '../../src/sandbox/dyi/dyi-archive-writer.js';
import { compactAccount } from '../../src/snapshots/compact.js';
import { snapshotStoreFor } from '../../src/snapshots/snapshot-store.js';
import { readManifest, writeManifest } from '../../src/snapshots/manifest.js';
import { digestFile } from '../../src/writers/file-digest.js';
import { MESSAGE_COLUMNS } from '../../src/schema/tables.js';
import { createParquetWriter, DEFAULT_PARQUET_OPTIONS } from '../../src/writers/parquet-writer.js';
import { exportSandbox, TEST_CUSTODY, tempDir } from '../helpers/export-options.js';
import {
  byKey,
  expectedConversationRows,
  expectedMessageRows,
  parseJsonColumns,
} from '../helpers/expected-rows.js';
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
    const total = sandbox.data.conversations.reduce((a, c) => a + c.messages.length, 0);
    expect(rows).toHaveLength(total);
    expect(new Set(rows.map((r) => r['message_id'])).size).toBe(total);
    // New messages arrived a few at a time, so every one of them was read while in the window.
    const expected = expectedMessageRows(sandbox, (id) => readableAtFirstRun.has(id) || added.has(id)).map(
      ({ position: _p, ...r }) => r,
    );
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

  it('folds snapshots written before a column existed: their rows hold NULL there', async () => {
    const sandbox = await startSandbox({ seed: 53, conversations: 5 });
    const out = await tempDir();
    const summary = await exportSandbox(sandbox, out);
    // Rewrite the snapshot's messages the way an earlier version wrote them: without the content columns.
    const path = join(summary.snapshotDir!, 'messages.parquet');
    const rows = await duckdbQuery(`SELECT * FROM read_parquet('${path}', hive_partitioning = false)`);
    const older = MESSAGE_COLUMNS.filter((c) => !['raw', 'share_links', 'attachment_types'].includes(c.name));
    await rm(path);
    const writer = createParquetWriter<Record<string, unknown>>(path, older);
    for (const r of rows)
      await writer.write({
        ...r,
        created_time: (r['created_time'] as Date).getTime(),
        extracted_at: (r['extracted_at'] as Date).getTime(),
      });
    await writer.close();
    // That version's manifest vouched for the file it wrote (compact checks every snapshot file it reads).
    const manifest = await readManifest(summary.snapshotDir!);
    manifest.files['messages.parquet'] = { rows: rows.length, ...(await digestFile(path)) };
    await rm(join(summary.snapshotDir!, 'manifest.json'));
    await rm(join(summary.snapshotDir!, 'manifest.sha256'));
    await writeManifest(summary.snapshotDir!, manifest);
    const result = await compactAccount(out, sandbox.data.account.userId, DEFAULT_PARQUET_OPTIONS, () => 1);
    const current = await duckdbQuery(
      `SELECT count(*) AS n, count(raw) AS raw, count(story_id) AS story FROM '${join(result.dir, 'messages.parquet')}'`,
    );
    expect(current).toEqual([
      { n: BigInt(rows.length), raw: 0n, story: BigInt(rows.filter((r) => r['story_id'] !== null).length) },
    ]);
  });
});

describe('compact folds only what the previous view has not', () => {
  it('reads the new snapshots beside the previous view, and gives the view a rebuild from every snapshot gives', async () => {
    const clock = new VirtualClock();
    const sandbox = await startSandbox({
      seed: 53,
      conversations: 30,
      archiveFixtures: true,
      now: () => clock.now(),
    });
    const out = await tempDir();
    const accountId = sandbox.data.account.userId;
    const compact = (root: string, rebuild = false) =>
      compactAccount(root, accountId, DEFAULT_PARQUET_OPTIONS, () => clock.now(), { rebuild });
    await exportSandbox(sandbox, out, {}, { clock });
    expect(await compact(out)).toMatchObject({ snapshots: 1, read: 1, carried: false });

    // Then: new messages, 25 of them past the window in one conversation; a full export (a copy of every row);
    // the archive's texts; each a snapshot the view has not folded.
    clock.advance(3_600_000);
    const [busy, quiet] = sandbox.data.conversations;
    sandbox.addMessages(busy!.id, 25);
    sandbox.addMessages(quiet!.id, 3);
    await exportSandbox(sandbox, out, {}, { clock });
    clock.advance(3_600_000);
    await exportSandbox(sandbox, out, { run: { mode: 'full' } }, { clock });
    const zip = join(await tempDir(), 'dyi.zip');
    await writeDyiArchive(sandbox.data, zip, DEFAULT_DYI_ARCHIVE);
    const imported = await importArchive({
      store: snapshotStoreFor(out),
      accountId,
      source: zip,
      parquet: DEFAULT_PARQUET_OPTIONS,
      now: () => clock.now(),
      custody: TEST_CUSTODY,
      toolVersion: 'test',
    });
    expect(imported.status).toBe('complete');

    const rebuiltRoot = await tempDir();
    await cp(out, rebuiltRoot, { recursive: true });
    expect(await compact(out)).toMatchObject({ snapshots: 4, read: 3, carried: true });
    expect(await compact(rebuiltRoot, true)).toMatchObject({ snapshots: 4, read: 4, carried: false });
    for (const table of ['messages', 'conversations']) {
      const rows = (root: string) =>
        duckdbQuery(
          `SELECT * FROM read_parquet('${join(root, 'current', `account=${accountId}`, `${table}.parquet`)}')`,
        );
      const folded = await rows(out);
      expect(folded.length).toBeGreaterThan(0);
      expect(folded).toEqual(await rows(rebuiltRoot));
    }
    const statuses = await duckdbQuery(
      `SELECT DISTINCT hydration_status AS s FROM '${join(out, 'current', `account=${accountId}`, 'messages.parquet')}' ORDER BY s`,
    );
    expect(statuses.map((r) => r['s'])).toEqual(
      expect.arrayContaining(['hydrated', 'imported', 'outside_window']),
    );
  });
});
