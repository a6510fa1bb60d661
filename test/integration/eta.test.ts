import { describe, expect, it } from 'vitest';
import type { ExportProgress } from '../../src/pipeline/extensions/export-progress.js';
import { exportSandbox, tempDir } from '../helpers/export-options.js';
import { startSandbox } from '../helpers/sandbox-fixture.js';
import { VirtualClock } from '../helpers/virtual-clock.js';

describe('the ETA', () => {
  // Per message, every conversation costs its calls and their spread is bounded (20 detail reads and its pages).
  // With expansion most conversations cost nothing and a few long ones cost everything: one of them can move the
  // estimate by more than 30 %, whatever is known of the listing, so that mode is not held to this bound.
  it.each(['per-message'] as const)(
    'is within 30 percent of the time actually left, from a quarter of the run to its last tenth (hydration %s)',
    async (hydrate) => {
      const clock = new VirtualClock();
      const sandbox = await startSandbox({ seed: 9, conversations: 100, now: () => clock.now() });
      const seen: Array<{ t: number; p: ExportProgress }> = [];
      await exportSandbox(
        sandbox,
        await tempDir(),
        { client: { maxRps: 10 }, run: { hydrate, conversationConcurrency: 1, hydrateConcurrency: 1 } },
        { clock, onProgress: (p) => seen.push({ t: clock.now(), p }) },
      );
      const start = seen[0]!.t;
      const end = seen.at(-1)!.t;
      // One listing page (100 conversations): the listing is complete from the start. From a quarter of the run's time to its last tenth: at the very end the estimate hangs on the size of the
      // last conversation or two, which nothing listed tells before their messages are.
      const checked = seen.filter(
        ({ t, p }) =>
          p.stage === 'exporting' &&
          p.listingComplete && // while the listing goes on, the ETA is a lower bound (shown as "≥")
          p.etaSeconds !== undefined &&
          t - start >= (end - start) / 4 &&
          end - t >= (end - start) / 10,
      );
      expect(checked.length).toBeGreaterThan(10);
      const errors = checked.map(({ t, p }) => {
        const left = (end - t) / 1000;
        return {
          done: p.conversationsDone,
          eta: p.etaSeconds!,
          left,
          off: Math.abs(p.etaSeconds! - left) / left,
        };
      });
      const worst = errors.reduce((a, b) => (b.off > a.off ? b : a));
      expect(worst.off, JSON.stringify(worst)).toBeLessThanOrEqual(0.3);
    },
  );
});
