import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HtmlValidate } from 'html-validate';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { ExportSummary } from '../../src/pipeline/run-export.js';
import { renderReport } from '../../src/snapshots/report.js';
import { exportSandbox, tempDir } from '../helpers/export-options.js';
import { startSandbox } from '../helpers/sandbox-fixture.js';

const CHROMIUM = '/usr/bin/chromium';

async function snapshotWithReport(): Promise<{ summary: ExportSummary; html: string; path: string }> {
  const sandbox = await startSandbox({ seed: 41, conversations: 30, media: { expiredRate: 0.3 } });
  const summary = await exportSandbox(sandbox, await tempDir(), {
    run: {
      media: {
        concurrency: 2,
        maxBytes: 1e6,
        timeoutMs: 10_000,
        retries: 1,
        backoff: { baseMs: 1, maxMs: 1 },
      },
    },
  });
  const path = join(summary.snapshotDir!, 'report.html');
  return { summary, html: await readFile(path, 'utf8'), path };
}

describe('report.html', () => {
  it('is valid, self-contained HTML that states the counts, and the manifest covers it', async () => {
    const { summary, html } = await snapshotWithReport();
    const report = await new HtmlValidate({ extends: ['html-validate:recommended'] }).validateString(html);
    expect(report.results.flatMap((r) => r.messages.map((m) => `${m.ruleId}: ${m.message}`))).toEqual([]);
    expect(report.valid).toBe(true);
    // Nothing to fetch: no script, no external resource of any kind.
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\ssrc=|\shref=|url\(/i);
    const m = summary.manifest!;
    expect(html).toContain(`<td>hydrated</td><td>${m.counts.hydrated.toLocaleString('en-US')}</td>`);
    expect(html).toContain(`<td>${m.media!.expired.toLocaleString('en-US')}</td>`);
    expect(m.media!.expired).toBeGreaterThan(0);
    expect(Object.keys(m.files)).toContain('report.html');
  });

  it.skipIf(!existsSync(CHROMIUM))('opens in headless Chromium with no request beyond itself', async () => {
    const { summary, path } = await snapshotWithReport();
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
      ],
    });
    try {
      const page = await browser.newPage();
      const requests: string[] = [];
      const errors: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      page.on('console', (msg) => {
        if (msg.type() === 'error') errors.push(msg.text());
      });
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`file://${path}`);
      expect(requests).toEqual([`file://${path}`]);
      expect(errors).toEqual([]);
      expect(await page.locator('h1').textContent()).toBe(
        `ig-export snapshot ${summary.manifest!.snapshot_id}`,
      );
      expect(await page.locator('#status').textContent()).toMatch(/^Complete/);
      expect(await page.locator('.chart rect').count()).toBeGreaterThan(0);
      expect(await page.locator('#conversations tbody tr').count()).toBe(summary.counts.conversations);
      const png = await page.screenshot({ fullPage: true });
      expect(png.length).toBeGreaterThan(10_000);
    } finally {
      await browser.close();
    }
  });

  it('answers separately whether every message is accounted for and how much text it holds; a cancelled run says what it left', async () => {
    const { summary, html } = await snapshotWithReport();
    const m = summary.manifest!;
    expect(m.counts.outside_window).toBeGreaterThan(0); // the premise: text is missing for some messages
    expect(html).not.toMatch(/read in full\./);
    expect(html).toMatch(/id="status">Complete: every message the API listed is accounted for/);
    const share = Math.floor(((m.counts.hydrated + m.counts.captured) / m.counts.messages) * 100);
    expect(html).toContain(
      `Not all text: content for ${share} % of messages: ${(m.counts.hydrated + m.counts.captured).toLocaleString('en-US')} of ${m.counts.messages.toLocaleString('en-US')}; ${m.counts.outside_window.toLocaleString('en-US')} are beyond Meta&#39;s 20-message window`,
    );
    // Who each conversation is with.
    const c = m.conversations[0]!;
    expect(c.participant_id).toMatch(/^\d+$/);
    expect(html).toContain(
      `${c.participant_username ? `@${c.participant_username} ` : ''}${c.participant_id}`,
    );
    const cancelled = renderReport(
      { ...m, status: 'partial', stop_reason: 'cancelled', failures: [], failures_total: 0 },
      new Map(),
    );
    expect(cancelled).toMatch(
      /Partial \(cancelled\): the run was stopped after [\d,]+ messages in [\d,]+ conversations/,
    );
    expect(cancelled).not.toMatch(/see the failures below/i);
  });

  it.skipIf(!existsSync(CHROMIUM))(
    'fits 1280 px with no sideways scrolling, for a full and for a one-person export',
    async () => {
      const sandbox = await startSandbox({ seed: 42, conversations: 40 });
      const full = await exportSandbox(sandbox, await tempDir());
      const person = sandbox.data.conversations[3]!.participant.id;
      const one = await exportSandbox(sandbox, await tempDir(), { run: { userId: person } });
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
        ],
      });
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
        for (const s of [full, one]) {
          await page.goto(`file://${join(s.snapshotDir!, 'report.html')}`);
          const width = Number(await page.evaluate('document.documentElement.scrollWidth'));
          expect(width).toBeLessThanOrEqual(1280);
          expect(await page.locator('#text-coverage').textContent()).toMatch(/content for \d+ % of messages/);
          expect(await page.locator('#conversations tbody').textContent()).toMatch(/\d{6,}/);
        }
      } finally {
        await browser.close();
      }
    },
  );
});
