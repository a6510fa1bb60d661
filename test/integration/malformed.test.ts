import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HydrateMode } from '../../src/pipeline/hydration-strategy.js';
import { exportSandbox, tempDir } from '../helpers/export-options.js';
import { readNdjson } from '../helpers/expected-rows.js';
import { exportArgs, runCli } from '../helpers/run-cli.js';
import { startSandbox, TEST_TOKEN } from '../helpers/sandbox-fixture.js';

const MALFORMED = { conversationRate: 0.1, detailRate: 0.05 };

describe('malformed items from the API never crash a run', () => {
  for (const hydrate of ['auto', 'per-message'] as HydrateMode[]) {
    it(`hydration ${hydrate}: each bad item is a recorded failure, the rest is published as partial`, async () => {
      const sandbox = await startSandbox({ seed: 61, conversations: 60, malformed: MALFORMED });
      const bad = sandbox.data.conversations.filter((c) => c.malformed);
      const good = sandbox.data.conversations.filter((c) => !c.malformed);
      const badDetails = good.flatMap((c) => c.messages.slice(0, 20).filter((m) => m.malformed && !m.unsent));
      expect(bad.length).toBeGreaterThan(0);
      expect(badDetails.length).toBeGreaterThan(0);

      const summary = await exportSandbox(sandbox, await tempDir(), { run: { hydrate } });
      expect(summary.status).toBe('partial');
      const manifest = summary.manifest!;
      expect(manifest.status).toBe('partial');
      const conversations = await readNdjson(join(summary.snapshotDir!, 'conversations.ndjson'));
      expect(conversations.map((c) => c['conversation_id']).sort()).toEqual(good.map((c) => c.id).sort());
      const extract = manifest.failures.filter((f) => f.stage === 'extract');
      expect(extract).toHaveLength(bad.length);
      expect(
        extract.every(
          (f) => f.kind === 'ContractError' && /participants\.data: .*expected array/.test(f.message),
        ),
      ).toBe(true);
      const messages = await readNdjson(join(summary.snapshotDir!, 'messages.ndjson'));
      const failed = messages.filter((m) => m['hydration_status'] === 'failed').map((m) => m['message_id']);
      expect(failed.sort()).toEqual(badDetails.map((m) => m.id).sort());
      const hydrateFailures = manifest.failures.filter((f) => f.stage === 'hydrate');
      expect(hydrateFailures).toHaveLength(badDetails.length);
      expect(hydrateFailures.every((f) => f.kind === 'ContractError' && /from: /.test(f.message))).toBe(true);
      // Every other message is there.
      expect(messages).toHaveLength(good.reduce((a, c) => a + c.messages.length, 0));
    });
  }

  it('the CLI exits 4 with the snapshot published, and the next run looks at the skipped conversations again', async () => {
    const sandbox = await startSandbox({ seed: 62, conversations: 20, malformed: MALFORMED });
    const skipped = sandbox.data.conversations.filter((c) => c.malformed).map((c) => c.id);
    expect(skipped.length).toBeGreaterThan(0);
    const out = await tempDir();
    const env = { IG_ACCESS_TOKEN: TEST_TOKEN };
    const first = await runCli(exportArgs(sandbox.url, out), { env });
    expect(first.code, first.stderr).toBe(4);
    const line = JSON.parse(first.stdout) as { status: string; snapshotDir: string };
    expect(line.status).toBe('partial');
    expect(first.stderr).toMatch(/skipped a malformed conversation/);
    // Meta fixes its answer: the next run picks the skipped conversations up.
    for (const c of sandbox.data.conversations) {
      c.malformed = false;
      for (const m of c.messages) m.malformed = false;
    }
    const second = await runCli(exportArgs(sandbox.url, out), { env });
    expect(second.code, second.stderr).toBe(0);
    const rows = await readNdjson(
      join((JSON.parse(second.stdout) as { snapshotDir: string }).snapshotDir, 'conversations.ndjson'),
    );
    expect(rows.map((r) => r['conversation_id'])).toEqual(expect.arrayContaining(skipped));
  });
});
