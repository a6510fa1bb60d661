import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { blankEvent } from '../../src/listener/webhook-events.js';
import { compactAccount } from '../../src/snapshots/compact.js';
import { accountDir, accountStatePath } from '../../src/snapshots/layout.js';
import { reconcileSnapshots } from '../../src/snapshots/reconcile.js';
import { StateStore } from '../../src/state/state-store.js';
import { webhookSpoolPath, WebhookSpool, type WebhookEvent } from '../../src/state/webhook-spool.js';
import { DEFAULT_PARQUET_OPTIONS } from '../../src/writers/parquet-writer.js';
import { duckdbQuery } from '../helpers/parquet-readers.js';
import { readNdjson } from '../helpers/expected-rows.js';
import { exportSandbox, tempDir } from '../helpers/export-options.js';
import { startSandbox } from '../helpers/sandbox-fixture.js';

/** An event as the listener would spool it. */
function event(over: Partial<WebhookEvent> & Pick<WebhookEvent, 'key' | 'type'>): WebhookEvent {
  return { ...blankEvent('', over.key, over.type, JSON.stringify({ kind: over.type })), ...over };
}

/** Spools events into the account's spool under `out`'s state directory, as `listen` would. */
function spoolEvents(out: string, accountId: string, events: readonly WebhookEvent[]): void {
  const spool = WebhookSpool.open(webhookSpoolPath(join(out, '_state'), accountId), true)!;
  spool.append(events, 1_000);
  spool.close();
}

describe('merging captured webhooks into an export', () => {
  it('fills unreadable messages by id, else by participant and time, applies edits and unsends, and reports the rest', async () => {
    const sandbox = await startSandbox({
      seed: 131,
      conversations: 2,
      messageCounts: [30, 3],
      unsentRate: 0,
    });
    const out = await tempDir();
    const accountId = sandbox.data.account.userId;
    const c = sandbox.data.conversations.find((x) => x.messages.length === 30)!;
    const participant = c.participant.id;
    const m = (position: number): (typeof c.messages)[number] => c.messages[position]!;
    const message = (mid: string, at: number, text: string, from = participant): WebhookEvent =>
      event({
        key: `message:${mid}`,
        type: 'message',
        accountId,
        mid,
        senderId: from,
        recipientId: from === participant ? accountId : participant,
        timestampMs: at,
        text,
        attachments: JSON.stringify([{ type: 'image', payload: { url: 'https://cdn.example/a.jpg' } }]),
        raw: JSON.stringify({ message: { mid, text } }),
      });
    const unsendOf3 = event({
      key: `unsend:${m(3).id}`,
      type: 'unsend',
      accountId,
      mid: m(3).id,
      timestampMs: 1_790_000_000_000,
    });
    spoolEvents(out, accountId, [
      // Positions 20–29 are beyond the window. 25 and 26 by id; 25 edited afterwards.
      message(m(25).id, m(25).createdMs + 400, 'captured twenty-five'),
      message(m(26).id, m(26).createdMs, 'captured twenty-six'),
      event({
        key: `edit:${m(25).id}:1`,
        type: 'edit',
        accountId,
        mid: m(25).id,
        text: 'twenty-five, edited',
      }),
      // 27 under another id, matched by participant and the second it was sent in.
      message('mid.other-27', m(27).createdMs + 900, 'captured twenty-seven'),
      // 28: two candidates in its second, so neither is trusted.
      message('mid.a-28', m(28).createdMs + 100, 'one'),
      message('mid.b-28', m(28).createdMs + 200, 'two'),
      // An unsend of a message the API still reads.
      unsendOf3,
      // Never listed: stays pending.
      message('mid.never-listed', 1_000, 'from nowhere'),
    ]);

    const summary = await exportSandbox(sandbox, out);
    const rows = await readNdjson(join(summary.snapshotDir!, 'messages.ndjson'));
    const row = (position: number): Record<string, unknown> =>
      rows.find((r) => r['message_id'] === m(position).id)!;
    expect(row(25)).toMatchObject({
      hydration_status: 'captured',
      source: 'webhook',
      message: 'twenty-five, edited',
      from_id: participant,
      to_id: accountId,
      attachment_types: ['image'],
      attachment_urls: ['https://cdn.example/a.jpg'],
    });
    expect(row(26)).toMatchObject({ hydration_status: 'captured', message: 'captured twenty-six' });
    expect(row(27)).toMatchObject({ hydration_status: 'captured', message: 'captured twenty-seven' });
    expect(row(28)).toMatchObject({ hydration_status: 'outside_window', source: null, message: null });
    expect(row(3)).toMatchObject({
      hydration_status: 'hydrated',
      source: 'api',
      message: m(3).text,
      deleted_at: new Date(1_790_000_000_000).toISOString(),
    });
    expect(row(2)).toMatchObject({ deleted_at: null });
    expect(summary.counts.captured).toBe(3);
    expect(summary.manifest?.counts.captured).toBe(3);
    // The two unmatched candidates of 28 and the never-listed one are still waiting for a listing.
    expect(summary.webhooks).toMatchObject({ captured: 3, unsends: 1, pending: 3 });

    // The state remembers a captured message as final (hydrated: nothing to read again), and crash recovery, which
    // rebuilds the state from the published snapshots, remembers exactly what the live run did.
    const statePath = accountStatePath(join(out, '_state'), accountId);
    const live = StateStore.open(statePath);
    const liveKnown = live.knownMessages(c.id);
    live.close();
    expect(liveKnown.get(m(25).id)?.status).toBe('hydrated');
    for (const suffix of ['', '-wal', '-shm']) await rm(`${statePath}${suffix}`, { force: true });
    const rebuilt = StateStore.open(statePath);
    await reconcileSnapshots(rebuilt, accountDir(out, accountId), 20);
    expect(rebuilt.knownMessages(c.id)).toEqual(liveKnown);
    rebuilt.close();

    // --honour-unsends: the unsent message keeps no content.
    const out2 = await tempDir();
    spoolEvents(out2, accountId, [unsendOf3]);
    const honoured = await exportSandbox(sandbox, out2, { run: { honourUnsends: true } });
    const rows2 = await readNdjson(join(honoured.snapshotDir!, 'messages.ndjson'));
    expect(rows2.find((r) => r['message_id'] === m(3).id)).toMatchObject({
      message: null,
      source: null,
      deleted_at: new Date(1_790_000_000_000).toISOString(),
    });
  });

  it('prunes merged events after the retention, never unmerged ones', async () => {
    const sandbox = await startSandbox({ seed: 132, conversations: 1, messageCounts: [25], unsentRate: 0 });
    const out = await tempDir();
    const accountId = sandbox.data.account.userId;
    const old = sandbox.data.conversations[0]!.messages[22]!;
    const path = webhookSpoolPath(join(out, '_state'), accountId);
    spoolEvents(out, accountId, [
      event({ key: `message:${old.id}`, type: 'message', accountId, mid: old.id, text: 'kept' }),
      event({ key: 'message:unlisted', type: 'message', accountId, mid: 'unlisted', text: 'waiting' }),
    ]);
    // Retention of one millisecond: what the published snapshot took in goes at once.
    const summary = await exportSandbox(sandbox, out, { run: { webhookRetentionMs: 1 } });
    expect(summary.webhooks).toMatchObject({ captured: 1, pending: 1, pruned: 1 });
    const after = WebhookSpool.open(path, false)!;
    expect(after.all().map((e) => e.mid)).toEqual(['unlisted']);
    after.close();
  });

  it('an unsend captured after a message was archived marks it in the current view, content kept', async () => {
    const sandbox = await startSandbox({ seed: 133, conversations: 1, messageCounts: [5], unsentRate: 0 });
    const out = await tempDir();
    const accountId = sandbox.data.account.userId;
    const target = sandbox.data.conversations[0]!.messages[1]!;
    await exportSandbox(sandbox, out);
    spoolEvents(out, accountId, [
      event({
        key: `unsend:${target.id}`,
        type: 'unsend',
        accountId,
        mid: target.id,
        timestampMs: 1_791_000_000_000,
      }),
    ]);
    await compactAccount(out, accountId, DEFAULT_PARQUET_OPTIONS, () => 5, { stateDir: join(out, '_state') });
    const rows = await duckdbQuery(
      `SELECT message_id, message, epoch_ms(deleted_at)::DOUBLE AS d FROM '${join(out, 'current', `account=${accountId}`, 'messages.parquet')}'`,
    );
    expect(rows.find((r) => r['message_id'] === target.id)).toMatchObject({
      message: target.text,
      d: 1_791_000_000_000,
    });
    expect(rows.filter((r) => r['d'] !== null)).toHaveLength(1);
  });
});
