import { describe, expect, it } from 'vitest';
import { buildManifest, type ManifestInput } from '../../src/pipeline/publishing/manifest-builder.js';
import type { RunInfo } from '../../src/pipeline/publishing/snapshot-sequence.js';
import { SnapshotTally } from '../../src/pipeline/publishing/snapshot-tally.js';
import { manifestSchema } from '../../src/snapshots/manifest.js';
import type { MessageRow } from '../../src/schema/tables.js';
import { TEST_RUN_INFO, testManifestInput } from '../helpers/export-options.js';

const run: RunInfo = { ...TEST_RUN_INFO, accountUsername: 'shop' };

const metrics = (calls: number, throttles = 0) => ({
  calls: { messages: calls },
  failures: {},
  retries: {},
  throttles,
  throttleWaitMs: throttles * 1_000,
});

function input(tally: SnapshotTally, over: Partial<ManifestInput> = {}): ManifestInput {
  return testManifestInput({ run, tally, metrics: metrics(10, 3), metricsAtOpen: metrics(4, 1), ...over });
}

const row = (conversation: string, status: MessageRow['hydration_status']): MessageRow =>
  ({
    conversation_id: conversation,
    hydration_status: status,
    created_time: 86_400_000,
  }) as unknown as MessageRow;

describe('buildManifest', () => {
  it("counts the snapshot's rows, its own share of the calls and throttles, and validates as a manifest", () => {
    const tally = new SnapshotTally();
    tally.message(row('c1', 'hydrated'));
    tally.message(row('c1', 'outside_window'));
    tally.message(row('c2', 'captured'));
    const m = buildManifest(input(tally));
    expect(m.status).toBe('complete');
    expect(m.counts).toMatchObject({ messages: 3, hydrated: 1, outside_window: 1, captured: 1 });
    expect(m.conversations.map((c) => [c.conversation_id, c.rows, c.listed])).toEqual([
      ['c1', 2, 2],
      ['c2', 1, 1],
    ]);
    expect(m.calls).toEqual({ total: 6, by_endpoint: { messages: 6 } });
    expect(m.throttles).toEqual({ count: 2, wait_ms: 2_000 });
    expect(m.window_savings).toBeNull();
    expect(manifestSchema.safeParse(m).success).toBe(true);
  });

  it('is partial when stopped or when anything failed, and records time-window savings only for a window', () => {
    const tally = new SnapshotTally();
    expect(buildManifest(input(tally, { stopReason: 'cancelled' }))).toMatchObject({
      status: 'partial',
      stop_reason: 'cancelled',
    });
    tally.failure({ stage: 'hydrate', conversation_id: 'c1', message_id: 'm1', reason: 'x' } as never);
    expect(buildManifest(input(tally)).status).toBe('partial');
    const windowed = buildManifest(
      input(new SnapshotTally(), {
        run: { ...run, filters: { user_id: null, since: '2026-01-01T00:00:00.000Z', until: null } },
      }),
    );
    expect(windowed.window_savings).toEqual({ listing_stopped_early: 0, detail_reads_skipped: 0 });
  });
});
