import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RequestLogEntry } from '../../src/sandbox/create-sandbox.js';
import { exportSandbox, tempDir } from '../helpers/export-options.js';
import { byKey, expectedMessageRows, readNdjson, withoutRunColumns } from '../helpers/expected-rows.js';
import {
  callsToFinish,
  expectNoOrphanMessages,
  finishedConversations,
  snapshotDirs,
} from '../helpers/resume-calls.js';
import { startSandbox } from '../helpers/sandbox-fixture.js';
import { VirtualClock } from '../helpers/virtual-clock.js';

/** The archive as the README's union query builds it: one row per message, a hydrated row first. */
async function union(dirs: readonly string[]): Promise<Array<Record<string, unknown>>> {
  const best = new Map<string, Record<string, unknown>>();
  for (const dir of dirs) {
    for (const r of await readNdjson(join(dir, 'messages.ndjson'))) {
      const seen = best.get(String(r['message_id']));
      if (!seen || (r['hydration_status'] === 'hydrated' && seen['hydration_status'] !== 'hydrated'))
        best.set(String(r['message_id']), r);
    }
  }
  return withoutRunColumns([...best.values()]);
}

describe('an interrupted full export is resumed, not restarted', () => {
  for (const fraction of [0.1, 0.5, 0.9]) {
    it(`stopped after ${fraction * 100} % of its calls: the next run makes only the calls of what was not published`, async () => {
      let onRequest: ((e: RequestLogEntry) => void) | undefined;
      const clock = new VirtualClock();
      const sandbox = await startSandbox({
        seed: 61,
        conversations: 40,
        maxMessagesPerConversation: 260,
        now: () => clock.now(),
        onRequest: (e) => onRequest?.(e),
      });
      const out = await tempDir();
      const total = callsToFinish(sandbox, new Set());
      const controller = new AbortController();
      onRequest = () => {
        if (sandbox.stats.requests.length >= Math.round(total * fraction))
          controller.abort(new Error('SIGTERM'));
      };
      const first = await exportSandbox(
        sandbox,
        out,
        { run: { checkpointConversations: 5 } },
        { clock, signal: controller.signal },
      );
      onRequest = undefined;
      expect(first.status).toBe('partial');
      expect(first.stopReason).toBe('cancelled');

      const published = await snapshotDirs(sandbox, out);
      for (const dir of published) await expectNoOrphanMessages(dir);
      // The summary's counts are those of the snapshots it lists.
      expect(published).toEqual(first.snapshotDirs);
      const rows = (await Promise.all(published.map((d) => readNdjson(join(d, 'messages.ndjson'))))).flat();
      expect(first.counts.messages).toBe(rows.length);
      // Checkpoints of the unfinished run say so.
      for (const dir of published.slice(0, -1)) {
        const m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Record<string, unknown>;
        expect(m).toMatchObject({ status: 'partial', stop_reason: 'checkpoint' });
      }

      const finished = await finishedConversations(published);
      expect(finished.size).toBeLessThan(40);
      sandbox.resetStats();
      clock.advance(60_000);
      const second = await exportSandbox(sandbox, out, {}, { clock });
      expect(second.status).toBe('complete');
      expect(second.resumedFromRunId).toBe(first.runId);
      expect(second.skippedConversations).toBe(finished.size);
      expect(sandbox.stats.requests).toHaveLength(callsToFinish(sandbox, finished));
      expect(second.manifest?.resumed_from_run_id).toBe(first.runId);

      const all = await snapshotDirs(sandbox, out);
      for (const dir of all) await expectNoOrphanMessages(dir);
      expect(byKey(await union(all), 'message_id')).toEqual(
        byKey(expectedMessageRows(sandbox), 'message_id'),
      );

      // Finished: the run after that is incremental and, with nothing new, publishes nothing.
      sandbox.resetStats();
      const third = await exportSandbox(sandbox, out, {}, { clock });
      expect(third.mode).toBe('incremental');
      expect(third.snapshotDirs).toEqual([]);
      expect(sandbox.stats.requests).toHaveLength(2);
    });
  }
});
