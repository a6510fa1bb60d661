import { copyFile, mkdtemp, readdir, readlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { OutputPathError } from '../../src/output-path.js';
import {
  asStateFileError,
  KNOWN_PER_CONVERSATION,
  needsRetry,
  StateFileCorruptError,
  StateStore,
  type ConversationCommit,
} from '../../src/state/state-store.js';

async function openStore(): Promise<{ store: StateStore; path: string }> {
  const path = join(await mkdtemp(join(tmpdir(), 'ig-state-')), 'account=1.sqlite');
  return { store: StateStore.open(path), path };
}

const commit = (over: Partial<ConversationCommit> = {}): ConversationCommit => ({
  conversationId: 'c1',
  updatedMs: 5_000,
  checkedMs: 6_000,
  complete: true,
  messageTotal: 3,
  messages: [
    { messageId: 'm1', createdMs: 3_000, status: 'hydrated', position: 0 },
    { messageId: 'm2', createdMs: 2_000, status: 'outside_window', position: 20 },
  ],
  windowSize: 20,
  ...over,
});

describe('the run state', () => {
  it('remembers a committed conversation and its newest messages, and says which snapshots it holds', async () => {
    const { store, path } = await openStore();
    store.commitSnapshot('s1', 'r1', [commit()], 7_000);
    expect(store.hasSnapshot('s1')).toBe(true);
    expect(store.hasSnapshot('s2')).toBe(false);
    expect(store.conversation('c1')).toEqual({
      updatedMs: 5_000,
      checkedMs: 6_000,
      needsRetry: false,
      messageTotal: 3,
    });
    expect(store.knownMessages('c1')).toEqual(
      new Map([
        ['m1', { createdMs: 3_000, status: 'hydrated' }],
        ['m2', { createdMs: 2_000, status: 'outside_window' }],
      ]),
    );
    store.close();
    // It is a file: a second open sees the same.
    const again = StateStore.open(path);
    expect(again.conversationCount()).toBe(1);
    again.close();
  });

  it(`keeps only the ${KNOWN_PER_CONVERSATION} newest messages of a conversation`, async () => {
    const { store } = await openStore();
    const messages = Array.from({ length: KNOWN_PER_CONVERSATION + 10 }, (_, i) => ({
      messageId: `m${i}`,
      createdMs: 100_000 - i,
      status: 'outside_window' as const,
      position: i,
    }));
    store.commitSnapshot('s1', 'r1', [commit({ messages })], 7_000);
    const known = store.knownMessages('c1');
    expect(known.size).toBe(KNOWN_PER_CONVERSATION);
    expect(known.has('m0')).toBe(true);
    expect(known.has(`m${KNOWN_PER_CONVERSATION}`)).toBe(false);
    store.close();
  });

  it('an incomplete listing keeps the old boundary and marks the conversation for the next run', async () => {
    const { store } = await openStore();
    store.commitSnapshot('s1', 'r1', [commit()], 7_000);
    store.commitSnapshot('s2', 'r2', [commit({ complete: false, updatedMs: 9_000, messages: [] })], 8_000);
    expect(store.conversation('c1')).toMatchObject({ updatedMs: 5_000, needsRetry: true });
    expect(store.knownMessages('c1').size).toBe(2);
    store.close();
  });

  it('a failed message inside the window needs a retry; outside it, it does not', () => {
    const failedAt = (position: number): ConversationCommit =>
      commit({ messages: [{ messageId: 'm', createdMs: 1, status: 'failed', position }] });
    expect(needsRetry(failedAt(19))).toBe(true);
    expect(needsRetry(failedAt(20))).toBe(false);
    expect(needsRetry(commit({ complete: false }))).toBe(true);
  });

  it('the watermark moves only when a run gives one; the last run start only forwards', async () => {
    const { store } = await openStore();
    expect(store.account()).toEqual({ watermarkMs: undefined, lastRunStartedMs: undefined });
    store.finishRun(5_000, 10_000);
    store.finishRun(undefined, 9_000);
    expect(store.account()).toEqual({ watermarkMs: 5_000, lastRunStartedMs: 10_000 });
    store.close();
  });

  it('holds one open file: a rollback journal, and state an earlier version left in WAL mode is converted', async () => {
    const { path } = await openStore();
    // An earlier version's state: WAL mode, a commit still in the -wal file (the process was killed).
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    old.pragma('wal_autocheckpoint = 0');
    old.prepare('UPDATE account SET watermark_ms = 4000 WHERE id = 1').run();
    const walFiles = (await readdir(dirname(path))).filter((f) => /-(wal|shm)$/.test(f));
    expect(walFiles.length).toBeGreaterThan(0);
    // Copied while still open, as a killed process leaves it (closing would checkpoint the WAL into the file).
    const copy = join(await mkdtemp(join(tmpdir(), 'ig-state-')), 'account=1.sqlite');
    for (const suffix of ['', '-wal']) await copyFile(`${path}${suffix}`, `${copy}${suffix}`);
    old.close();
    const store = StateStore.open(copy);
    expect(store.account().watermarkMs).toBe(4000);
    store.commitSnapshot('s1', 'r1', [commit()], 7_000);
    expect(await readdir(dirname(copy))).toEqual(['account=1.sqlite']);
    const fds = await readdir('/proc/self/fd');
    const open = await Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
    expect(open.filter((target) => target.startsWith(copy))).toEqual([copy]);
    store.close();
  });

  it('a file that is not a database is named, with the way out', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ig-state-'));
    const path = join(dir, 'account=1.sqlite');
    await writeFile(
      path,
      'this is not a database, just some text that is long enough to look like a header'.repeat(20),
    );
    let error: unknown;
    try {
      StateStore.open(path).account();
    } catch (e) {
      error = asStateFileError(e, path);
    }
    expect(error).toBeInstanceOf(StateFileCorruptError);
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toContain('--rebuild-state');
  });

  it('a full disk or a read-only file is an output path error naming the file', () => {
    const full = asStateFileError(
      Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }),
      '/s',
    );
    expect(full).toBeInstanceOf(OutputPathError);
    expect((full as Error).message).toContain('/s');
    const other = new Error('x');
    expect(asStateFileError(other, '/s')).toBe(other);
  });
});
