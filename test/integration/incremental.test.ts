import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NoSuchConversationError, type ExportSummary } from '../../src/pipeline/run-export.js';
import type { Sandbox } from '../../src/sandbox/create-sandbox.js';
import { acquireRunLock, RunLockedError } from '../../src/state/run-lock.js';
import Database from 'better-sqlite3';
import { StateStore } from '../../src/state/state-store.js';
import { exportSandbox, tempDir } from '../helpers/export-options.js';
import { byKey, expectedMessageRows, readNdjson, withoutRunColumns } from '../helpers/expected-rows.js';
import { startSandbox } from '../helpers/sandbox-fixture.js';
import { VirtualClock } from '../helpers/virtual-clock.js';

async function rowsOf(summary: ExportSummary, table = 'messages'): Promise<Array<Record<string, unknown>>> {
  return (await Promise.all(summary.snapshotDirs.map((d) => readNdjson(join(d, `${table}.ndjson`))))).flat();
}

/** Calls one incremental run must make when `changed` maps conversations to how many messages they got. */
function minimumCalls(changed: Map<string, number>): number {
  let calls = 1 + 1; // account + the first conversations page
  for (const n of changed.values()) calls += 1 + Math.min(n, 20); // the first message page holds the boundary
  return calls;
}

async function setup(conversations = 30, seed = 31) {
  const clock = new VirtualClock();
  const sandbox = await startSandbox({ seed, conversations, now: () => clock.now() });
  const out = await tempDir();
  const run = () => exportSandbox(sandbox, out, {}, { clock });
  return { clock, sandbox, out, run };
}

function addTo(sandbox: Sandbox, clock: VirtualClock, counts: number[]): Map<string, number> {
  const changed = new Map<string, number>();
  counts.forEach((n, i) => {
    const c = sandbox.data.conversations[(i * 7) % sandbox.data.conversations.length]!;
    clock.advance(60_000);
    sandbox.addMessages(c.id, n);
    changed.set(c.id, (changed.get(c.id) ?? 0) + n);
  });
  return changed;
}

describe('incremental runs', () => {
  it('full, after changes, no change: each run makes exactly the minimum calls, shown in its manifest', async () => {
    const { clock, sandbox, out, run } = await setup();
    const full = await run();
    expect(full.mode).toBe('full');
    expect(full.status).toBe('complete');

    clock.advance(3_600_000);
    const changed = addTo(sandbox, clock, [1, 5, 19, 3]);
    sandbox.resetStats();
    const delta = await run();
    expect(delta.mode).toBe('incremental');
    expect(sandbox.stats.requests).toHaveLength(minimumCalls(changed));
    expect(delta.calls).toBe(minimumCalls(changed));
    expect(delta.manifest!.calls.total).toBe(minimumCalls(changed));
    // Exactly the new messages appear, and only the changed conversations.
    const rows = await rowsOf(delta);
    const added = [...changed.entries()].flatMap(([id, n]) =>
      sandbox.data.conversations.find((c) => c.id === id)!.messages.slice(0, n),
    );
    expect(rows.map((r) => r['message_id']).sort()).toEqual(added.map((m) => m.id).sort());
    expect((await rowsOf(delta, 'conversations')).map((r) => r['conversation_id']).sort()).toEqual(
      [...changed.keys()].sort(),
    );
    // A delta row still says how many messages the conversation has, and separately how many rows it holds.
    for (const row of await rowsOf(delta, 'conversations')) {
      const id = String(row['conversation_id']);
      expect(row['message_count']).toBe(sandbox.data.conversations.find((c) => c.id === id)!.messages.length);
      expect(row['snapshot_message_rows']).toBe(changed.get(id));
    }
    expect(delta.counts.lost).toBe(0);

    clock.advance(3_600_000);
    sandbox.resetStats();
    const quiet = await run();
    expect(sandbox.stats.requests.map((r) => r.endpoint)).toEqual(['me', 'conversations']);
    expect(quiet.metrics.calls).toEqual({ account: 1, conversations: 1 });
    expect(quiet.counts.messages).toBe(0);
    expect(quiet.status).toBe('complete');
    // Nothing changed: no snapshot is published, the run is recorded in the state instead.
    expect(quiet.snapshotDirs).toEqual([]);
    expect(quiet.manifest).toBeUndefined();
    const store = StateStore.open(join(out, '_state', `account=${sandbox.data.account.userId}.sqlite`));
    const runs = store.runs();
    store.close();
    expect(runs.map((r) => [r.mode, r.snapshots, r.calls])).toEqual([
      ['incremental', 0, 2],
      ['incremental', 1, minimumCalls(changed)],
      ['full', 1, full.calls],
    ]);
    // The conversations inside the 5-minute overlap are listed again, found unchanged, and cost no call.
    expect(quiet.skippedConversations).toBe(changed.size);
  });

  it('the union of all snapshots, deduplicated by message_id, is the sandbox', async () => {
    const { clock, sandbox, out, run } = await setup(20, 32);
    await run();
    for (let day = 0; day < 3; day++) {
      clock.advance(86_400_000);
      addTo(sandbox, clock, [2, 4, 1]);
      await run();
    }
    const accountDir = join(out, `account=${sandbox.data.account.userId}`);
    const snapshots = (await readdir(accountDir)).filter((n) => n.startsWith('snapshot='));
    expect(snapshots).toHaveLength(4);
    const perSnapshot = await Promise.all(
      snapshots.map((n) => readNdjson(join(accountDir, n, 'messages.ndjson'))),
    );
    for (const rows of perSnapshot) expect(new Set(rows.map((r) => r['message_id'])).size).toBe(rows.length);
    const all = perSnapshot.flat();
    const latest = new Map<string, Record<string, unknown>>();
    for (const r of all) {
      const seen = latest.get(String(r['message_id']));
      if (!seen || (r['hydration_status'] === 'hydrated' && seen['hydration_status'] !== 'hydrated'))
        latest.set(String(r['message_id']), r);
    }
    const union = withoutRunColumns([...latest.values()]).map(({ position: _p, ...r }) => r);
    const expected = expectedMessageRows(sandbox).map(({ position: _p, ...r }) => r);
    // Messages that were hydrated when they were new stay hydrated in the archive, even after sliding out.
    expect(byKey(union, 'message_id').map((r) => r['message_id'])).toEqual(
      byKey(expected, 'message_id').map((r) => r['message_id']),
    );
    const hydratedNow = new Set(
      expected.filter((r) => r['hydration_status'] === 'hydrated').map((r) => r['message_id']),
    );
    for (const r of union)
      if (hydratedNow.has(r['message_id'])) expect(r['hydration_status']).toBe('hydrated');
  });

  it('a conversation that got 30 new messages reports 10 lost, names itself and recommends an interval', async () => {
    const { clock, sandbox, run } = await setup(10, 33);
    await run();
    clock.advance(2 * 3_600_000);
    const target = sandbox.data.conversations[3]!;
    sandbox.addMessages(target.id, 30);
    const delta = await run();
    expect(delta.counts.lost).toBe(10);
    expect(delta.counts.hydrated + delta.counts.unavailable).toBe(20);
    expect(delta.loss.worst).toEqual([{ conversation_id: target.id, lost: 10, new_messages: 30 }]);
    // 30 messages in 2 hours: 20 arrive in 80 minutes, so runs at most 80 minutes apart would have lost nothing.
    expect(delta.loss.recommended_interval_minutes).toBe(80);
    expect(delta.manifest!.window_loss.lost).toBe(10);
  });

  it('retries messages that failed in an earlier run while they are still in the window', async () => {
    const clock = new VirtualClock();
    const sandbox = await startSandbox({
      seed: 34,
      conversations: 8,
      now: () => clock.now(),
      faults: { rates: { transient_500: 0.3 }, startAfterRequests: 2 },
    });
    const out = await tempDir();
    const first = await exportSandbox(sandbox, out, { client: { retries: 0 } }, { clock });
    expect(first.counts.failed).toBeGreaterThan(0);
    expect(first.status).toBe('partial');
    sandbox.options.faults.rates.transient_500 = 0;
    const second = await exportSandbox(sandbox, out, { client: { retries: 0 } }, { clock });
    const retried = await rowsOf(second);
    const failedBefore = (await rowsOf(first))
      .filter((r) => r['hydration_status'] === 'failed')
      .map((r) => r['message_id']);
    const after = new Map(retried.map((r) => [r['message_id'], r['hydration_status']]));
    for (const id of failedBefore) expect(['hydrated', 'unavailable']).toContain(after.get(id));
    expect(second.counts.failed).toBe(0);
    expect(second.status).toBe('complete');
  });

  it('rebuilds lost state from the published snapshots instead of exporting again', async () => {
    const { sandbox, out, run } = await setup(15, 35);
    await run();
    await rm(join(out, '_state'), { recursive: true });
    sandbox.resetStats();
    const again = await run();
    expect(again.mode).toBe('incremental'); // the state was rebuilt from the snapshots on disk
    expect(again.counts.messages).toBe(0);
    expect(sandbox.stats.requests.map((r) => r.endpoint)).toEqual(['me', 'conversations']);
  });

  it("one run at a time: a held lock refuses a second run with its owner; a dead owner's lock is taken over", async () => {
    const { sandbox, out, run } = await setup(3, 36);
    const target = join(out, '_state', `account=${sandbox.data.account.userId}`);
    const release = await acquireRunLock(target, () => Date.now());
    const refused = await run().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RunLockedError);
    expect((refused as Error).message).toMatch(new RegExp(`another run is in progress .*pid ${process.pid}`));
    await release();
    expect((await run()).status).toBe('complete');
  });
});

describe('one-person runs and the account state', () => {
  it('a --user-id run does not move the account watermark, so the next account run misses nothing', async () => {
    const { clock, sandbox, out, run } = await setup(12, 37);
    await run();
    clock.advance(3_600_000);
    const older = sandbox.data.conversations[6]!;
    const newer = sandbox.data.conversations[2]!;
    sandbox.addMessages(older.id, 2);
    clock.advance(600_000); // more than the 5-minute overlap
    sandbox.addMessages(newer.id, 1); // now the newest conversation of the account
    await exportSandbox(sandbox, out, { run: { userId: newer.participant.id } }, { clock });
    const next = await run();
    expect((await rowsOf(next, 'conversations')).map((r) => r['conversation_id'])).toEqual([older.id]);
    expect(next.counts.messages).toBe(2);
  });
});

describe('message totals', () => {
  it('state from before totals were kept: the next run lists the changed conversation to the end, once', async () => {
    const { clock, sandbox, out, run } = await setup(10, 41);
    await run();
    const path = join(out, '_state', `account=${sandbox.data.account.userId}.sqlite`);
    const db = new Database(path);
    db.exec('UPDATE conversations SET message_total = NULL');
    db.close();
    clock.advance(3_600_000);
    const target = sandbox.data.conversations.reduce((a, c) =>
      c.messages.length > a.messages.length ? c : a,
    );
    sandbox.addMessages(target.id, 2);
    sandbox.resetStats();
    const delta = await run();
    const [row] = await rowsOf(delta, 'conversations');
    expect(row).toMatchObject({ message_count: target.messages.length, snapshot_message_rows: 2 });
    const listPages = Math.max(1, Math.ceil(target.messages.length / 100));
    expect(sandbox.stats.requests).toHaveLength(2 + listPages + 2);
    clock.advance(3_600_000);
    sandbox.addMessages(target.id, 1);
    sandbox.resetStats();
    await run();
    expect(sandbox.stats.requests).toHaveLength(2 + 1 + 1); // the total is known again: one page, one detail
  });
});

describe('one person (--user-id)', () => {
  it('is always a full export of that conversation, even into an output that holds the account', async () => {
    const { clock, sandbox, out, run } = await setup(12, 39);
    await run();
    clock.advance(3_600_000);
    const target = sandbox.data.conversations[5]!;
    sandbox.resetStats();
    const one = await exportSandbox(sandbox, out, { run: { userId: target.participant.id } }, { clock });
    expect(one).toMatchObject({ status: 'complete', mode: 'full', resumedFromRunId: undefined });
    const rows = await rowsOf(one);
    expect(rows.map((r) => r['message_id']).sort()).toEqual(target.messages.map((m) => m.id).sort());
    const n = target.messages.length;
    expect(sandbox.stats.requests).toHaveLength(1 + 1 + Math.max(1, Math.ceil(n / 100)) + Math.min(20, n));
  });

  it('that matches no conversation is an error, and publishes nothing', async () => {
    const { sandbox, out, run } = await setup(6, 40);
    await run();
    await expect(exportSandbox(sandbox, out, { run: { userId: '999999999' } })).rejects.toBeInstanceOf(
      NoSuchConversationError,
    );
    const snapshots = (await readdir(join(out, `account=${sandbox.data.account.userId}`))).filter((n) =>
      n.startsWith('snapshot='),
    );
    expect(snapshots).toHaveLength(1);
  });
});

describe('sandbox time travel over HTTP', () => {
  it('POST /__sandbox/add-messages adds messages that the next run finds', async () => {
    const { sandbox, run } = await setup(6, 38);
    await run();
    const target = sandbox.data.conversations[4]!;
    const response = await fetch(`${sandbox.url}/__sandbox/add-messages`, {
      method: 'POST',
      body: JSON.stringify({ conversation_id: target.id, count: 3 }),
    });
    const added = (await response.json()) as { conversation_id: string; added: string[] };
    expect(added.added).toEqual(target.messages.slice(0, 3).map((m) => m.id));
    const next = await run();
    expect((await rowsOf(next)).map((r) => r['message_id']).sort()).toEqual([...added.added].sort());
  });
});
