import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { RECORDING_FILE, startRecording } from '../../src/graph/exchange-recording.js';
import { sendGet } from '../../src/graph/transport.js';
import { silentLogger } from '../../src/logger.js';
import { runExport, type ExportSummary } from '../../src/pipeline/run-export.js';
import type { Sandbox, SandboxOverrides } from '../../src/sandbox/create-sandbox.js';
import { createReplayServer } from '../../src/sandbox/replay-server.js';
import { exportOptionsFor, TEST_CUSTODY, tempDir } from '../helpers/export-options.js';
import { byKey, expectedMessageRows, readNdjson, withoutRunColumns } from '../helpers/expected-rows.js';
import { startSandbox, TEST_TOKEN } from '../helpers/sandbox-fixture.js';
import { VirtualClock } from '../helpers/virtual-clock.js';

/**
 * The recording checked in as a fixture was made from this sandbox (its own faults on one call in ten, no throttle:
 * a replayed throttle would wait its real minute). Regenerate with UPDATE_REPLAY_FIXTURE=1 npm test -- record-replay.
 */
const FIXTURE = fileURLToPath(new URL('../fixtures/replay-faults', import.meta.url));
const FIXTURE_SANDBOX: SandboxOverrides = {
  seed: 61,
  conversations: 6,
  messageCounts: [130, 45, 21, 7, 3, 1],
  unsentRate: 0.05,
  faults: {
    rates: {
      transient_500: 0.03,
      html_502: 0.03,
      truncated_200: 0.03,
      cut_mid_body: 0.03,
      reset_before_headers: 0.03,
      empty_page_with_next: 0.03,
    },
  },
};

/** Exports from `baseUrl` (a sandbox or a replay) into a new folder; `record` writes the exchanges there. */
async function exportFrom(
  sandbox: Sandbox,
  baseUrl: string,
  hydrate: 'auto' | 'per-message',
  record?: { dir: string; redactKey?: string },
): Promise<{ summary: ExportSummary; rows: Array<Record<string, unknown>> }> {
  const options = exportOptionsFor(sandbox, await tempDir(), { client: { baseUrl }, run: { hydrate } });
  const recorder =
    record === undefined ? undefined : startRecording(record.dir, new URL(baseUrl).origin, record.redactKey);
  const summary = await runExport(options, {
    clock: new VirtualClock(),
    random: () => 0.5,
    logger: silentLogger,
    toolVersion: 'test',
    custody: TEST_CUSTODY,
    transport: recorder?.wrap(sendGet),
  });
  expect(summary.status).toBe('complete');
  const rows = withoutRunColumns(await readNdjson(join(summary.snapshotDir!, 'messages.ndjson')));
  return { summary, rows: byKey(rows, 'message_id') };
}

/** Media links point at whichever host served them: compare rows with the host written the same way. */
function sameHost(rows: Array<Record<string, unknown>>, from: string, to: string): unknown {
  return JSON.parse(JSON.stringify(rows).split(from).join(to));
}

describe('export --record and sandbox --replay', () => {
  it.each(['auto', 'per-message'] as const)(
    'a recording of a faulty run (hydration %s) replays to the same rows, every request answered',
    async (hydrate) => {
      const sandbox = await startSandbox(FIXTURE_SANDBOX);
      const dir = await tempDir();
      const live = await exportFrom(sandbox, sandbox.url, hydrate, { dir });
      expect(Object.values(sandbox.stats.faults).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      const recording = await readFile(join(dir, RECORDING_FILE), 'utf8');
      expect(recording.trim().split('\n')).toHaveLength(sandbox.stats.requests.length);
      expect(recording).not.toContain(TEST_TOKEN);
      expect(recording).not.toContain('access_token');

      const replay = await createReplayServer(dir);
      onTestFinished(() => replay.close());
      const replayed = await exportFrom(sandbox, replay.url, hydrate);
      expect(replay.misses).toEqual([]);
      expect(replayed.rows).toEqual(sameHost(live.rows, sandbox.url, replay.url));
      expect(replayed.summary.calls).toBe(live.summary.calls);
    },
  );

  it('with a redaction key the recording holds no text, username or link, and replays to the same ids', async () => {
    const sandbox = await startSandbox({ seed: 62, conversations: 6 });
    const dir = await tempDir();
    const live = await exportFrom(sandbox, sandbox.url, 'auto', {
      dir,
      redactKey: 'a-test-key-of-32-characters-long',
    });
    const recording = await readFile(join(dir, RECORDING_FILE), 'utf8');
    const secrets = [sandbox.data.account.username];
    for (const c of sandbox.data.conversations) {
      if (c.participant.username !== undefined) secrets.push(c.participant.username);
      for (const m of c.messages) if (m.text.length >= 8) secrets.push(m.text);
    }
    for (const s of secrets) expect(recording).not.toContain(JSON.stringify(s).slice(1, -1));
    const replay = await createReplayServer(dir);
    onTestFinished(() => replay.close());
    const replayed = await exportFrom(sandbox, replay.url, 'auto');
    const shape = (rows: Array<Record<string, unknown>>) =>
      rows.map((r) => [r['message_id'], r['hydration_status'], r['created_time']]);
    expect(shape(replayed.rows)).toEqual(shape(live.rows));
    expect(
      replayed.rows.some((r) => typeof r['message'] === 'string' && r['message'].startsWith('[redacted ')),
    ).toBe(true);
  });

  it('the recording checked in as a fixture replays to exactly the sandbox it was made from', async () => {
    const sandbox = await startSandbox(FIXTURE_SANDBOX);
    if (process.env['UPDATE_REPLAY_FIXTURE'] === '1') {
      await rm(FIXTURE, { recursive: true, force: true });
      await exportFrom(sandbox, sandbox.url, 'per-message', { dir: FIXTURE });
    }
    const replay = await createReplayServer(FIXTURE);
    onTestFinished(() => replay.close());
    const replayed = await exportFrom(sandbox, replay.url, 'per-message');
    expect(replay.misses).toEqual([]);
    expect(replayed.rows).toEqual(
      sameHost(byKey(expectedMessageRows(sandbox), 'message_id'), sandbox.url, replay.url),
    );
    const recording = await readFile(join(FIXTURE, RECORDING_FILE), 'utf8');
    // The sandbox's faults are in it: retried failures, cut connections, pages that are not JSON.
    expect(recording).toMatch(/"network":"connection"/);
    expect(recording).toMatch(/"status":502/);
    expect(recording).toMatch(/"status":500,.*is_transient/);
  });
});
