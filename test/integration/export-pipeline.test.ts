import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ExportProgress } from '../../src/pipeline/extensions/export-progress.js';
import { digestFile } from '../../src/writers/file-digest.js';
import { exportSandbox, tempDir } from '../helpers/export-options.js';
import { expectSnapshotEqualsSandbox, readNdjson } from '../helpers/expected-rows.js';
import { startSandbox } from '../helpers/sandbox-fixture.js';

describe('export pipeline against the sandbox over HTTP', () => {
  it('exports 300 conversations exactly, never asks outside the window, and spends the minimum calls', async () => {
    const sandbox = await startSandbox({ seed: 7, conversations: 300 });
    const sizes = sandbox.data.conversations.map((c) => c.messages.length);
    expect(sizes.filter((n) => n > 500).length).toBeGreaterThan(0); // the premise: some long conversations
    const out = await tempDir();

    const summary = await exportSandbox(sandbox, out);

    expect(summary.status).toBe('complete');
    const messages = await expectSnapshotEqualsSandbox(summary.snapshotDir!, sandbox);

    // No message outside the 20 most recent was ever requested.
    expect(sandbox.stats.hydrations.length).toBeGreaterThan(0);
    expect(Math.max(...sandbox.stats.hydrations.map((h) => h.position))).toBeLessThan(20);

    // Calls = 1 (account) + conversation pages + message-id pages + hydrations, and nothing more.
    const conversationPages = Math.ceil(300 / 100);
    const messagePages = sizes.reduce((a, n) => a + Math.max(1, Math.ceil(n / 100)), 0);
    const hydrations = sizes.reduce((a, n) => a + Math.min(n, 20), 0);
    const minimum = 1 + conversationPages + messagePages + hydrations;
    expect(sandbox.stats.requests.length).toBe(minimum);
    expect(summary.calls).toBe(minimum);
    expect(summary.metrics.calls).toEqual({
      account: 1,
      conversations: conversationPages,
      messages: messagePages,
      message: hydrations,
    });

    // Counts in the summary agree with the rows.
    const status = (s: string): number => messages.filter((m) => m['hydration_status'] === s).length;
    expect(summary.counts).toEqual({
      conversations: 300,
      messages: messages.length,
      hydrated: status('hydrated'),
      captured: 0,
      imported: 0,
      archive_only: 0,
      outside_window: status('outside_window'),
      unavailable: status('unavailable'),
      failed: 0,
      lost: 0, // a first run loses nothing: older messages are history, not losses
    });
  });

  it('writes a manifest whose row counts and SHA-256 match the files', async () => {
    const sandbox = await startSandbox({ seed: 3, conversations: 12 });
    const summary = await exportSandbox(sandbox, await tempDir());
    const manifest = JSON.parse(
      await readFile(join(summary.snapshotDir!, 'manifest.json'), 'utf8'),
    ) as NonNullable<typeof summary.manifest>;
    expect(Object.keys(manifest.files).sort()).toEqual([
      'conversations.ndjson',
      'conversations.parquet',
      'messages.ndjson',
      'messages.parquet',
      'report.html',
    ]);
    for (const [name, entry] of Object.entries(manifest.files)) {
      expect(await digestFile(join(summary.snapshotDir!, name))).toEqual({
        sha256: entry.sha256,
        bytes: entry.bytes,
      });
    }
    expect(manifest.files['messages.ndjson']?.rows).toBe(summary.counts.messages);
    expect(manifest.files['conversations.parquet']?.rows).toBe(12);
    expect(manifest.status).toBe('complete');
    expect(manifest.account_id).toBe(sandbox.data.account.userId);
    expect(JSON.stringify(manifest)).not.toContain(sandbox.options.token);
  });

  it("exports only one person's conversation with userId", async () => {
    const sandbox = await startSandbox({ seed: 5, conversations: 30 });
    const target = sandbox.data.conversations[17]!;
    const summary = await exportSandbox(sandbox, await tempDir(), { run: { userId: target.participant.id } });
    const conversations = await readNdjson(join(summary.snapshotDir!, 'conversations.ndjson'));
    expect(conversations.map((c) => c['conversation_id'])).toEqual([target.id]);
    const messages = await readNdjson(join(summary.snapshotDir!, 'messages.ndjson'));
    expect(messages.length).toBe(target.messages.length);
  });

  it.each(['auto', 'per-message'] as const)(
    'a server that ignores user_id still gives a one-person export of that person alone (hydration %s)',
    async (hydrate) => {
      const sandbox = await startSandbox({ seed: 5, conversations: 30, userIdFilter: 'ignore' });
      const target = sandbox.data.conversations[17]!;
      const summary = await exportSandbox(sandbox, await tempDir(), {
        run: { userId: target.participant.id, hydrate },
      });
      expect(summary.status).toBe('complete');
      const conversations = await readNdjson(join(summary.snapshotDir!, 'conversations.ndjson'));
      expect(conversations.map((c) => c['conversation_id'])).toEqual([target.id]);
      const messages = await readNdjson(join(summary.snapshotDir!, 'messages.ndjson'));
      expect(new Set(messages.map((m) => m['conversation_id']))).toEqual(new Set([target.id]));
      expect(messages.length).toBe(target.messages.length);
    },
  );
});

describe('the answer to a detail read of an unsent message (its code is a GUESS)', () => {
  it('code 10 saying "has been deleted" marks the message unavailable and the run goes on', async () => {
    const sandbox = await startSandbox({
      seed: 12,
      conversations: 20,
      unsentRate: 0.1,
      deletedErrorCode: 10,
      deletedErrorSubcode: 2534022,
    });
    const summary = await exportSandbox(sandbox, await tempDir());
    expect(summary.status).toBe('complete');
    expect(summary.counts.unavailable).toBeGreaterThan(0);
    await expectSnapshotEqualsSandbox(summary.snapshotDir!, sandbox);
  });
});

describe('progress reported through onProgress', () => {
  it('counts up to the summary, and ends with done', async () => {
    const sandbox = await startSandbox({ seed: 9, conversations: 40 });
    const seen: ExportProgress[] = [];
    // Paced (the ETA is calls left at the pace); the virtual clock makes the pace cost no real time.
    const summary = await exportSandbox(
      sandbox,
      await tempDir(),
      { client: { maxRps: 100 } },
      { onProgress: (p) => seen.push(p) },
    );
    const exporting = seen.filter((p) => p.stage === 'exporting');
    expect(exporting.length).toBe(40);
    expect(exporting.map((p) => p.conversationsDone)).toEqual(exporting.map((_, i) => i + 1));
    expect(exporting.every((p) => p.conversationsListed >= p.conversationsDone)).toBe(true);
    expect(exporting.some((p) => p.etaSeconds !== undefined && p.etaSeconds > 0)).toBe(true);
    expect(seen.at(-1)).toMatchObject({
      stage: 'done',
      conversationsDone: 40,
      conversationsListed: 40,
      listingComplete: true,
      messages: summary.counts.messages,
      hydrated: summary.counts.hydrated,
      calls: summary.calls,
      etaSeconds: 0,
    });
  });
});
