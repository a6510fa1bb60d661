import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TimeWindowConflictError } from '../../src/pipeline/conversation-planner.js';
import type { ExportSummary } from '../../src/pipeline/run-export.js';
import type { Sandbox } from '../../src/sandbox/create-sandbox.js';
import { exportSandbox, tempDir } from '../helpers/export-options.js';
import { readNdjson } from '../helpers/expected-rows.js';
import { startSandbox } from '../helpers/sandbox-fixture.js';
import { VirtualClock } from '../helpers/virtual-clock.js';

async function messageIds(summary: ExportSummary): Promise<string[]> {
  const rows = (
    await Promise.all(summary.snapshotDirs.map((d) => readNdjson(join(d, 'messages.ndjson'))))
  ).flat();
  return rows.map((r) => String(r['message_id'])).sort();
}

/** The sandbox's messages created in [since, until), every conversation (or one). */
function expectedIds(
  sandbox: Sandbox,
  since: number | undefined,
  until: number | undefined,
  conversationId?: string,
): string[] {
  return sandbox.data.conversations
    .filter((c) => conversationId === undefined || c.id === conversationId)
    .flatMap((c) => c.messages)
    .filter(
      (m) => (since === undefined || m.createdMs >= since) && (until === undefined || m.createdMs < until),
    )
    .map((m) => m.id)
    .sort();
}

/** The longest conversation, and a --since that keeps its `keep` newest messages. */
function longConversation(sandbox: Sandbox, keep: number) {
  const target = [...sandbox.data.conversations].sort((a, b) => b.messages.length - a.messages.length)[0]!;
  expect(target.messages.length).toBeGreaterThan(keep + 200);
  // Messages are newest first; pick a since between two distinct creation times.
  let k = keep;
  while (target.messages[k - 1]!.createdMs === target.messages[k]!.createdMs) k++;
  return { target, since: target.messages[k - 1]!.createdMs, kept: k };
}

describe('time window (--since / --until)', () => {
  it('--user-id --since with expansion makes only the calls the window needs, and writes exactly its messages', async () => {
    const sandbox = await startSandbox({ seed: 7, conversations: 60 });
    const { target, since, kept } = longConversation(sandbox, 150);
    const summary = await exportSandbox(sandbox, await tempDir(), {
      run: { userId: target.participant.id, since, hydrate: 'auto' },
    });
    expect(summary.status).toBe('complete');
    expect(await messageIds(summary)).toEqual(expectedIds(sandbox, since, undefined, target.id));
    // account + the listing (with the 20-message window) + id pages of 100 down to the first older message.
    const idPages = Math.floor((kept - 20) / 100) + 1;
    expect(sandbox.stats.requests).toHaveLength(2 + idPages);
    const manifest = summary.manifest!;
    expect(manifest.filters).toEqual({
      user_id: target.participant.id,
      since: new Date(since).toISOString(),
      until: null,
    });
    // The id listing stopped with pages still to come.
    expect(manifest.window_savings).toEqual({ listing_stopped_early: 1, detail_reads_skipped: 0 });
    expect(manifest.conversations).toHaveLength(1);
    expect(manifest.conversations[0]).toMatchObject({ conversation_id: target.id, rows: kept });
    expect(manifest.conversations[0]!.outside_time_window).toBeGreaterThan(0);
    // The conversation's total is unknown: the listing stopped before its end.
    const [conversation] = await readNdjson(join(summary.snapshotDir!, 'conversations.ndjson'));
    expect(conversation).toMatchObject({ message_count: null, snapshot_message_rows: kept });
  });

  it('--until skips the detail reads of newer messages (per-message hydration)', async () => {
    const sandbox = await startSandbox({ seed: 7, conversations: 60 });
    const { target } = longConversation(sandbox, 150);
    const until = target.messages[9]!.createdMs; // the 10 newest-ish are after it
    const newer = target.messages.filter((m) => m.createdMs >= until);
    const summary = await exportSandbox(sandbox, await tempDir(), {
      run: { userId: target.participant.id, until, hydrate: 'per-message' },
    });
    expect(await messageIds(summary)).toEqual(expectedIds(sandbox, undefined, until, target.id));
    expect(summary.manifest!.window_savings).toEqual({
      listing_stopped_early: 0,
      detail_reads_skipped: newer.length,
    });
    // No detail was asked of a message outside the window.
    const read = new Set(sandbox.stats.hydrations.map((h) => h.messageId));
    for (const m of newer) expect(read.has(m.id)).toBe(false);
  });

  it('a full run with --since --until lists conversations only down to --since and exports exactly the window', async () => {
    const sandbox = await startSandbox({ seed: 11, conversations: 250 });
    // --since at the 150th most recently updated conversation; --until half way from there to the newest message.
    const updatedDesc = sandbox.data.conversations.map((c) => c.messages[0]!.createdMs).sort((a, b) => b - a);
    const since = updatedDesc[149]!;
    const until = since + Math.floor((updatedDesc[0]! - since) / 2);
    const summary = await exportSandbox(sandbox, await tempDir(), { run: { since, until, hydrate: 'auto' } });
    expect(summary.status).toBe('complete');
    expect(await messageIds(summary)).toEqual(expectedIds(sandbox, since, until));
    // Conversations last updated before --since were never listed: fewer conversation pages than the account has.
    const listed = updatedDesc.filter((u) => u >= since).length;
    expect(summary.counts.conversations).toBe(listed);
    expect(summary.metrics.calls['conversations']).toBe(Math.floor(listed / 100) + 1);
    expect(summary.metrics.calls['conversations']).toBeLessThan(Math.ceil(250 / 100));
    expect(summary.manifest!.window_savings!.listing_stopped_early).toBeGreaterThan(0);
  });

  it('never moves the watermark: a windowed first run leaves the next plain run a full one', async () => {
    const clock = new VirtualClock();
    const sandbox = await startSandbox({ seed: 5, conversations: 20, now: () => clock.now() });
    const out = await tempDir();
    const since = sandbox.data.conversations[3]!.messages[0]!.createdMs;
    const windowed = await exportSandbox(sandbox, out, { run: { since } }, { clock });
    expect(windowed.mode).toBe('full');
    clock.advance(60_000);
    const next = await exportSandbox(sandbox, out, {}, { clock });
    expect(next).toMatchObject({ mode: 'full', resumedFromRunId: undefined, skippedConversations: 0 });
    expect(await messageIds(next)).toEqual(expectedIds(sandbox, undefined, undefined));
  });

  it('is refused on an incremental run (it would corrupt the watermark), before any snapshot', async () => {
    const clock = new VirtualClock();
    const sandbox = await startSandbox({ seed: 5, conversations: 10, now: () => clock.now() });
    const out = await tempDir();
    await exportSandbox(sandbox, out, {}, { clock });
    clock.advance(60_000);
    await expect(exportSandbox(sandbox, out, { run: { since: 0 } }, { clock })).rejects.toBeInstanceOf(
      TimeWindowConflictError,
    );
    // With --full it runs, and the archive's next incremental run is untouched by it: 2 calls.
    const full = await exportSandbox(sandbox, out, { run: { since: 0, mode: 'full' } }, { clock });
    expect(full.status).toBe('complete');
    sandbox.resetStats();
    const next = await exportSandbox(sandbox, out, {}, { clock });
    expect(next.mode).toBe('incremental');
    expect(sandbox.stats.requests).toHaveLength(2);
  });
});
