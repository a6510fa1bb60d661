import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WebhookSender } from '../../src/sandbox/webhook-sender.js';
import { webhookSpoolPath, WebhookSpool } from '../../src/state/webhook-spool.js';
import { readNdjson } from '../helpers/expected-rows.js';
import { tempDir } from '../helpers/export-options.js';
import { freePort } from '../helpers/free-port.js';
import { allFiles, exportArgs, runCli, spawnCli } from '../helpers/run-cli.js';
import { startSandbox, TEST_TOKEN } from '../helpers/sandbox-fixture.js';

const APP_SECRET = 'sandbox-app-secret-8c2f6d1e';
const VERIFY_TOKEN = 'verify-token-41b7e9a0';

interface Summary {
  status: string;
  snapshotDir: string;
  counts: { messages: number; hydrated: number; captured: number; outside_window: number; lost: number };
  webhooks: { captured: number; unsends: number; pending: number } | null;
}

describe('lossless busy inboxes: webhooks captured by `listen`, merged by the next export', () => {
  it('a burst of 60 messages between two runs ends with every body archived while listen runs, and 40 lost without it', async () => {
    const port = await freePort();
    const out = await tempDir();
    const sandbox = await startSandbox({
      seed: 121,
      conversations: 6,
      maxMessagesPerConversation: 30,
      webhook: {
        url: `http://127.0.0.1:${port}/webhook`,
        appSecret: APP_SECRET,
        retries: 6,
        retryDelayMs: 25,
        duplicateRate: 0.3,
        mid: 'graph-id',
      },
    });
    const env = { IG_APP_SECRET: APP_SECRET, IG_WEBHOOK_VERIFY_TOKEN: VERIFY_TOKEN };
    const listener = spawnCli(['listen', '--port', String(port), '--output', out], { env });
    await listener.waitForStderr(/listening for Meta webhooks/);
    const exportRun = async (): Promise<Summary> => {
      const r = await runCli(exportArgs(sandbox.url, out), { env: { IG_ACCESS_TOKEN: TEST_TOKEN } });
      expect(r.code).toBe(0);
      return JSON.parse(r.stdout) as Summary;
    };
    await exportRun();

    const busy = sandbox.data.conversations[0]!;
    const burst = sandbox.addMessages(busy.id, 60);
    await sandbox.webhooks?.flush();
    // Meta's duplicates and retries reached the listener; every message was acknowledged.
    expect(sandbox.webhooks?.deliveries.every((d) => d.delivered)).toBe(true);
    const second = await exportRun();
    expect(second.counts).toMatchObject({ lost: 0, captured: 40, outside_window: 0 });
    expect(second.webhooks).toMatchObject({ captured: 40, pending: 0 });
    const rows = await readNdjson(join(second.snapshotDir, 'messages.ndjson'));
    for (const m of burst) {
      const row = rows.find((r) => r['message_id'] === m.id);
      expect(row?.['message'], m.id).toBe(m.text);
      expect(row?.['hydration_status']).toBe(
        m === burst[0] || burst.indexOf(m) < 20 ? 'hydrated' : 'captured',
      );
      expect(row?.['source']).toBe(burst.indexOf(m) < 20 ? 'api' : 'webhook');
    }

    listener.child.kill('SIGTERM');
    const stopped = await listener.result;
    expect(stopped.code).toBe(0);
    // No secret in the listener's logs, the exports' output or any file.
    for (const secret of [APP_SECRET, VERIFY_TOKEN, TEST_TOKEN]) {
      expect(stopped.stdout + stopped.stderr).not.toContain(secret);
      for (const f of await allFiles(out)) expect(f.bytes.includes(secret), f.path).toBe(false);
    }

    // The same burst without a listener: 40 bodies are gone for good, and said so.
    const alone = await startSandbox({ seed: 121, conversations: 6, maxMessagesPerConversation: 30 });
    const out2 = await tempDir();
    const plain = async (): Promise<Summary> => {
      const r = await runCli(exportArgs(alone.url, out2), { env: { IG_ACCESS_TOKEN: TEST_TOKEN } });
      return JSON.parse(r.stdout) as Summary;
    };
    await plain();
    alone.addMessages(alone.data.conversations[0]!.id, 60);
    const lossy = await plain();
    expect(lossy.counts).toMatchObject({ lost: 40, captured: 0, outside_window: 40 });
    expect(lossy.webhooks).toBeNull();
  });

  it('listen refuses to start without its secrets, naming the variables', async () => {
    const r = await runCli(['listen', '--port', '0', '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'failed', exitCode: 2, error: { kind: 'usage' } });
    expect(r.stderr).toMatch(/the Meta app secret is missing: set IG_APP_SECRET or pass --app-secret-file/);
  });

  it('kill -9 after acknowledging loses no acknowledged event', async () => {
    const port = await freePort();
    const out = await tempDir();
    const env = { IG_APP_SECRET: APP_SECRET, IG_WEBHOOK_VERIFY_TOKEN: VERIFY_TOKEN };
    const listener = spawnCli(['listen', '--port', String(port), '--output', out], { env });
    await listener.waitForStderr(/listening for Meta webhooks/);
    const sender = new WebhookSender(
      {
        url: `http://127.0.0.1:${port}/webhook`,
        appSecret: APP_SECRET,
        retries: 0,
        retryDelayMs: 1,
        duplicateRate: 0,
        mid: 'graph-id',
      },
      7,
    );
    const messages = Array.from({ length: 25 }, (_, i) => ({
      id: `mid-${i}`,
      createdMs: 1_795_000_000_000 + i * 1000,
      from: { id: '6521113831237472' },
      to: { id: '17841400000000001' },
      text: `message ${i}`,
      isEcho: false,
    }));
    sender.messagesAdded('17841400000000001', messages);
    await sender.flush();
    expect(sender.deliveries.filter((d) => d.delivered)).toHaveLength(25);
    listener.child.kill('SIGKILL');
    await listener.result;
    const spool = WebhookSpool.open(webhookSpoolPath(join(out, '_state'), '17841400000000001'), false)!;
    expect(
      spool
        .all()
        .map((e) => e.mid)
        .sort(),
    ).toEqual(messages.map((m) => m.id).sort());
    spool.close();
  });

  it('webhook subscribe and status manage the account subscription with one call each way', async () => {
    const sandbox = await startSandbox({ seed: 141, conversations: 1 });
    const env = { IG_ACCESS_TOKEN: TEST_TOKEN };
    const status = async (): Promise<{ subscribed: string[]; missing: string[] }> => {
      const r = await runCli(['webhook', 'status', '--base-url', sandbox.url, '--json'], { env });
      expect(r.code).toBe(0);
      return JSON.parse(r.stdout) as { subscribed: string[]; missing: string[] };
    };
    expect((await status()).subscribed).toEqual([]);
    const text = await runCli(['webhook', 'status', '--base-url', sandbox.url], { env });
    expect(text.stdout).toMatch(/not subscribed .*run "ig-export webhook subscribe"/);
    const sub = await runCli(['webhook', 'subscribe', '--base-url', sandbox.url, '--json'], { env });
    expect(sub.code).toBe(0);
    expect(JSON.parse(sub.stdout)).toMatchObject({
      subscribed: ['messages', 'message_reactions', 'message_edit', 'messaging_seen'],
      missing: [],
    });
    expect((await status()).missing).toEqual([]);
    const calls = sandbox.stats.requests.filter((r) => r.endpoint === 'subscribed_apps');
    expect(calls.map((r) => r.method)).toEqual(['GET', 'GET', 'POST', 'GET', 'GET']);
    expect(calls.every((r) => r.tokenIn === 'header')).toBe(true);
    for (const r of [text, sub]) expect(r.stdout + r.stderr).not.toContain(TEST_TOKEN);
    const bad = await runCli(
      ['webhook', 'subscribe', '--base-url', sandbox.url, '--fields', 'messages;drop'],
      { env },
    );
    expect(bad.code).toBe(2);
  });
});
