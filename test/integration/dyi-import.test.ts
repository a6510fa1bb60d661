import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import yauzl from 'yauzl';
import { describe, expect, it } from 'vitest';
import { ArchiveWithoutThreadsError } from '../../src/archive/dyi-archive.js';
import {
  ForeignArchiveError,
  importArchive,
  type ImportOptions,
} from '../../src/pipeline/archive-import/import-archive.js';
import type { Sandbox } from '../../src/sandbox/create-sandbox.js';
import { BURST } from '../../src/sandbox/dataset.js';
import {
  DEFAULT_DYI_ARCHIVE,
  sameNamePair,
  writeDyiArchive,
} from '../../src/sandbox/dyi/dyi-archive-writer.js';
import { compactAccount } from '../../src/snapshots/compact.js';
import { DuckDbMemoryError } from '../../src/snapshots/duckdb-memory.js';
import { readManifest } from '../../src/snapshots/manifest.js';
import { snapshotStoreFor } from '../../src/snapshots/snapshot-store.js';
import { verifyCurrentView, verifySnapshot } from '../../src/snapshots/verify.js';
import { DEFAULT_PARQUET_OPTIONS } from '../../src/writers/parquet-options.js';
import { exportSandbox, TEST_CUSTODY, tempDir } from '../helpers/export-options.js';
import { duckdbQuery } from '../helpers/parquet-readers.js';
import { startSandbox } from '../helpers/sandbox-fixture.js';

const options = (out: string, accountId: string, source: string): ImportOptions => ({
  store: snapshotStoreFor(out),
  accountId,
  source,
  parquet: DEFAULT_PARQUET_OPTIONS,
  now: () => Date.UTC(2026, 11, 1),
  custody: TEST_CUSTODY,
  toolVersion: 'test',
});

interface ViewRow {
  conversation_id: string;
  message_id: string;
  hydration_status: string;
  message: string | null;
  raw: string | null;
}

async function currentView(out: string, accountId: string): Promise<ViewRow[]> {
  await compactAccount(out, accountId, DEFAULT_PARQUET_OPTIONS, () => Date.UTC(2026, 11, 1, 1));
  return (await duckdbQuery(
    `SELECT conversation_id, message_id, hydration_status, message, raw::VARCHAR AS raw
     FROM '${join(out, 'current', `account=${accountId}`, 'messages.parquet')}'`,
  )) as unknown as ViewRow[];
}

/** Every text the sandbox has (unsent messages have none anywhere) against the current view's. */
function compareTexts(sandbox: Sandbox, rows: readonly ViewRow[]) {
  const byId = new Map(rows.map((r) => [r.message_id, r]));
  let total = 0;
  let held = 0;
  const differing: string[] = [];
  const misplaced: string[] = [];
  for (const c of sandbox.data.conversations)
    for (const m of c.messages) {
      if (m.unsent) continue;
      total++;
      const row = byId.get(m.id);
      if (row?.message === null || row?.message === undefined) continue;
      held++;
      if (row.message !== m.text) differing.push(m.id);
      if (row.conversation_id !== c.id) misplaced.push(m.id);
    }
  return { total, held, differing, misplaced };
}

async function exported(seed: number, clockSkewMs = 0, layout: 'current' | 'legacy' = 'current') {
  const sandbox = await startSandbox({ seed, conversations: 40, archiveFixtures: true });
  const out = await tempDir();
  const summary = await exportSandbox(sandbox, out);
  const zip = join(await tempDir(), 'instagram-dyi.zip');
  await writeDyiArchive(sandbox.data, zip, { ...DEFAULT_DYI_ARCHIVE, clockSkewMs, layout });
  return { sandbox, out, accountId: summary.accountId, zip };
}

/** An older archive that lacks 30 % of the messages, and a newer one that has them. */
async function twoArchives(sandbox: Sandbox): Promise<{ older: string; newer: string }> {
  const dir = await tempDir();
  const older = join(dir, 'older.zip');
  await writeDyiArchive(sandbox.data, older, { ...DEFAULT_DYI_ARCHIVE, missingShare: 0.3 });
  const newer = join(dir, 'newer.zip');
  await writeDyiArchive(sandbox.data, newer);
  return { older, newer };
}

describe('import-dyi: the "Download your information" archive fills texts beyond the window', () => {
  it('matches ≥ 99 % of texts with none different, a burst message by message, same-name people apart', async () => {
    const { sandbox, out, accountId, zip } = await exported(11);
    const r = await importArchive(options(out, accountId, zip));
    expect(r.status).toBe('complete');
    expect(r.threads.unmatched).toBe(0);
    expect(r.ambiguous).toBe(0);
    const rows = await currentView(out, accountId);
    const t = compareTexts(sandbox, rows);
    expect(t.differing).toEqual([]);
    expect(t.misplaced).toEqual([]);
    expect(t.held / t.total).toBeGreaterThanOrEqual(0.99);

    // The burst: 30 messages 300 ms apart, several per Graph second, each paired with its own archive message.
    const burst = sandbox.data.conversations.flatMap((c) => c.messages.filter((m) => m.sentMs !== undefined));
    expect(burst).toHaveLength(BURST.count);
    const byId = new Map(rows.map((row) => [row.message_id, row]));
    for (const m of burst) {
      const row = byId.get(m.id)!;
      expect(row.hydration_status).toBe('imported');
      expect((JSON.parse(row.raw!) as { timestamp_ms: number }).timestamp_ms).toBe(m.sentMs);
    }

    // The two people who share a display name each keep their own conversation's texts.
    for (const c of sameNamePair(sandbox.data)) {
      const imported = rows.filter(
        (row) => row.conversation_id === c.id && row.hydration_status === 'imported',
      );
      expect(imported.length).toBeGreaterThan(0);
      const own = new Set(c.messages.map((m) => m.id));
      expect(imported.every((row) => own.has(row.message_id))).toBe(true);
    }

    // Archive messages older than anything listed are kept, under stable synthetic ids.
    const archiveOnly = rows.filter((row) => row.hydration_status === 'archive_only');
    expect(archiveOnly.length).toBe(r.unmatched);
    expect(archiveOnly.every((row) => row.message_id.startsWith('dyi:') && row.message !== null)).toBe(true);
  });

  it('records the archive digest; a second import changes nothing; verify passes', async () => {
    const { sandbox, out, accountId, zip } = await exported(12);
    const first = await importArchive(options(out, accountId, zip));
    const manifest = await readManifest(first.snapshotDir!);
    expect(manifest.mode).toBe('import');
    expect(manifest.archive?.sha256).toBe(
      createHash('sha256')
        .update(await readFile(zip))
        .digest('hex'),
    );
    expect(manifest.counts.imported).toBe(first.rows.imported);
    expect((await verifySnapshot(first.snapshotDir!)).intact).toBe(true);
    const before = await snapshotStoreFor(out).list(accountId);
    const again = await importArchive(options(out, accountId, zip));
    expect(again.status).toBe('unchanged');
    expect(again.matched).toBe(first.matched);
    expect(await snapshotStoreFor(out).list(accountId)).toEqual(before);
    await currentView(out, accountId);
    expect((await verifyCurrentView(join(out, 'current', `account=${accountId}`))).intact).toBe(true);
    // The next export is not confused by the import's snapshot: nothing changed, nothing lost.
    const next = await exportSandbox(sandbox, out);
    expect(next.status).toBe('complete');
    expect(next.counts.lost).toBe(0);
  });

  it('a newer archive adds what the earlier one lacked, and nothing twice', async () => {
    const { sandbox, out, accountId } = await exported(17);
    const { older, newer } = await twoArchives(sandbox);
    const first = await importArchive(options(out, accountId, older));
    const second = await importArchive(options(out, accountId, newer));
    expect(second.status).toBe('complete');
    expect(second.rows.imported).toBeGreaterThan(0);
    // The older archive's messages (and its archive_only ones) are not written again.
    expect(second.rows.imported).toBeLessThan(first.rows.imported);
    expect(second.rows.archive_only).toBe(0);
    const rows = await currentView(out, accountId);
    expect(new Set(rows.map((r) => r.message_id)).size).toBe(rows.length);
    const t = compareTexts(sandbox, rows);
    expect(t.differing).toEqual([]);
    expect(t.held / t.total).toBeGreaterThanOrEqual(0.99);
  });

  it('a thread an earlier import matched to no conversation, matched by a later one, is not kept twice', async () => {
    const sandbox = await startSandbox({ seed: 29, conversations: 40, archiveFixtures: true });
    const out = await tempDir();
    // First without the ten quietest conversations (as if the account had not been listed to its end): the first
    // import can match their threads to none.
    const quiet = sandbox.data.conversations.splice(-10);
    const { accountId } = await exportSandbox(sandbox, out);
    sandbox.data.conversations.push(...quiet);
    sandbox.addMessages(quiet[0]!.id, 1); // and the sandbox serves them again (it re-indexes)
    const { older, newer } = await twoArchives(sandbox);
    const first = await importArchive(options(out, accountId, older));
    const threadIds = (rows: readonly ViewRow[]) =>
      new Set(rows.filter((r) => r.conversation_id.startsWith('dyi:')).map((r) => r.conversation_id));
    expect(threadIds(await currentView(out, accountId)).size).toBe(first.threads.unmatched);
    // Then the whole account, and a newer archive: its threads now match their conversations.
    await exportSandbox(sandbox, out, { run: { mode: 'full' } });
    const second = await importArchive(options(out, accountId, newer));
    expect(second.threads.unmatched).toBeLessThan(first.threads.unmatched);
    const manifest = await readManifest(second.snapshotDir!);
    expect(manifest.archive?.matched_threads).toHaveLength(second.threads.matched);
    const rows = await currentView(out, accountId);
    // Only threads still matched to no conversation keep rows under their own id; no text is held twice.
    expect(threadIds(rows).size).toBeLessThanOrEqual(second.threads.unmatched);
    for (const key of manifest.archive?.matched_threads ?? [])
      expect(rows.filter((r) => r.conversation_id === `dyi:${key}`)).toEqual([]);
    const t = compareTexts(sandbox, rows);
    expect(t.differing).toEqual([]);
    expect(t.misplaced).toEqual([]);
    expect(t.held / t.total).toBeGreaterThanOrEqual(0.99);
  });

  it("--copy-media stores the archive's media files content-addressed, one media row per reference", async () => {
    const { out, accountId, zip } = await exported(18);
    const r = await importArchive({ ...options(out, accountId, zip), copyMedia: true });
    expect(r.media!.downloaded).toBeGreaterThan(0);
    // The sandbox leaves one file in ten out of its archive: those references are failed rows, not errors.
    expect(r.media!.failed).toBeGreaterThan(0);
    expect((await verifySnapshot(r.snapshotDir!)).intact).toBe(true);
    const rows = (await duckdbQuery(
      `SELECT message_id, url, status, path, sha256 FROM '${join(r.snapshotDir!, 'media.parquet')}'`,
    )) as Array<{
      url: string;
      status: string;
      path: string | null;
      sha256: string | null;
      message_id: string;
    }>;
    expect(rows.length).toBe(r.media!.downloaded + r.media!.failed);
    for (const m of rows.filter((x) => x.status === 'downloaded')) {
      const bytes = await readFile(join(r.snapshotDir!, m.path!));
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(m.sha256);
      expect(bytes.toString()).toMatch(/^sandbox media of /);
    }
  });

  it('stopped by a signal while writing: the staged snapshot is removed and nothing is published', async () => {
    const { out, accountId, zip } = await exported(19);
    const store = snapshotStoreFor(out);
    const before = await store.list(accountId);
    const stop = new AbortController();
    // The signal arrives once the import has planned every thread and is about to write its snapshot.
    const stopping = Object.assign(Object.create(store) as typeof store, {
      has: async (account: string, id: string) => {
        stop.abort(new Error('SIGINT received'));
        return store.has(account, id);
      },
    });
    await expect(
      importArchive({ ...options(out, accountId, zip), store: stopping, signal: stop.signal }),
    ).rejects.toThrow('SIGINT received');
    expect(await store.list(accountId)).toEqual(before);
    const leftovers = (await readdir(join(out, `account=${accountId}`))).filter((n) => n.includes('.tmp-'));
    expect(leftovers).toEqual([]);
  });

  it('removes what a killed run staged (the lock is held), and imports', async () => {
    const { out, accountId, zip } = await exported(18);
    const staged = join(out, `account=${accountId}`, '.snapshot=20261201T000000.000Z.tmp-999999');
    await mkdir(staged);
    await writeFile(join(staged, 'messages.ndjson'), '{}\n');
    expect((await importArchive(options(out, accountId, zip))).status).toBe('complete');
    expect((await readdir(join(out, `account=${accountId}`))).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it("refuses another account's archive and writes nothing", async () => {
    const { out, accountId } = await exported(13);
    const other = await startSandbox({ seed: 14, conversations: 40 });
    const foreign = join(await tempDir(), 'other.zip');
    await writeDyiArchive(other.data, foreign);
    const before = await snapshotStoreFor(out).list(accountId);
    await expect(importArchive(options(out, accountId, foreign))).rejects.toBeInstanceOf(ForeignArchiveError);
    expect(await snapshotStoreFor(out).list(accountId)).toEqual(before);
  });

  it('refuses an archive without JSON thread files (an empty folder, the HTML format, a zip of no thread) and writes nothing', async () => {
    const { sandbox, out, accountId } = await exported(17);
    const store = snapshotStoreFor(out);
    const before = await store.list(accountId);
    const empty = await tempDir();
    const html = await tempDir();
    const thread = join(html, 'your_instagram_activity/messages/inbox/anasilva_1234567890');
    await mkdir(thread, { recursive: true });
    await writeFile(join(thread, 'message_1.html'), '<html><body>Ana Silva</body></html>');
    const noThreads = join(await tempDir(), 'part-2.zip');
    await writeDyiArchive({ ...sandbox.data, conversations: [] }, noThreads);
    for (const [source, why] of [
      [empty, /holds no message threads \(files messages\/<box>\/<thread>\/message_<n>\.json\)/],
      [html, /is Instagram's archive in HTML format \(1 message_<n>\.html files\): .* Format: JSON$/],
      [noThreads, /holds no message threads/],
    ] as const) {
      // Twice: a refused archive is never recorded as imported.
      for (let i = 0; i < 2; i++) {
        const refused = importArchive(options(out, accountId, source));
        await expect(refused, source).rejects.toBeInstanceOf(ArchiveWithoutThreadsError);
        await expect(refused, source).rejects.toThrow(why);
      }
    }
    expect(await store.list(accountId)).toEqual(before);
  });

  it('an account whose timelines outgrow DuckDB’s memory limit is refused naming the limit, publishing nothing', async () => {
    const { out, accountId, zip } = await exported(18);
    const store = snapshotStoreFor(out);
    const before = await store.list(accountId);
    const refused = importArchive({ ...options(out, accountId, zip), duckdbMemoryMb: 1 });
    await expect(refused).rejects.toBeInstanceOf(DuckDbMemoryError);
    await expect(refused).rejects.toThrow(
      /^importing the archive of account \d+ needs more memory than DuckDB's 1 MB limit \(.+\); run it again with --duckdb-memory 4 \(MB\)/,
    );
    expect(await store.list(accountId)).toEqual(before);
    expect((await readdir(join(out, `account=${accountId}`))).filter((n) => n.includes('.tmp-'))).toEqual([]);
    expect((await readdir(join(out, 'current'))).filter((n) => n.startsWith('.duckdb-spill-'))).toEqual([]);
    const r = await importArchive({ ...options(out, accountId, zip), duckdbMemoryMb: 64 });
    expect(r.status).toBe('complete');
  });

  it('matches as well when the two clocks are a second apart (the guess of ±1 s), in the older layout', async () => {
    const { sandbox, out, accountId, zip } = await exported(15, 1000, 'legacy');
    const r = await importArchive(options(out, accountId, zip));
    expect(r.threads.unmatched).toBe(0);
    const t = compareTexts(sandbox, await currentView(out, accountId));
    expect(t.differing).toEqual([]);
    expect(t.held / t.total).toBeGreaterThanOrEqual(0.99);
  });

  it('reads the unpacked folder too, reporting a malformed file by path and importing the rest', async () => {
    const { sandbox, out, accountId, zip } = await exported(16);
    const folder = join(await tempDir(), 'unpacked');
    const names = await unzip(zip, folder);
    const broken = names.find((n) => n.endsWith('message_1.json'))!;
    await writeFile(join(folder, broken), '{"participants": [], "messages": [');
    const r = await importArchive(options(out, accountId, folder));
    expect(r.malformed).toEqual([{ path: broken, reason: expect.stringMatching(/^not JSON/) as unknown }]);
    expect(r.status).toBe('complete');
    const t = compareTexts(sandbox, await currentView(out, accountId));
    expect(t.differing).toEqual([]);
    expect(t.held / t.total).toBeGreaterThan(0.5);
  });
});

/** Extracts a zip into `dir`; returns the entry names. */
async function unzip(zip: string, dir: string): Promise<string[]> {
  const file = await yauzl.openPromise(zip, { lazyEntries: true });
  const names: string[] = [];
  await new Promise<void>((resolve, reject) => {
    file.on('entry', (entry: yauzl.Entry) => {
      names.push(entry.fileName);
      void (async () => {
        const chunks: Buffer[] = [];
        for await (const c of await file.openReadStreamPromise(entry)) chunks.push(c as Buffer);
        await mkdir(dirname(join(dir, entry.fileName)), { recursive: true });
        await writeFile(join(dir, entry.fileName), Buffer.concat(chunks));
        file.readEntry();
      })().catch(reject);
    });
    file.on('end', () => resolve());
    file.on('error', reject);
    file.readEntry();
  });
  return names;
}
