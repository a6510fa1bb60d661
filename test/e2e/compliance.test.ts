import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/export-options.js';
import { readNdjson } from '../helpers/expected-rows.js';
import { allFiles, exportArgs, runCli } from '../helpers/run-cli.js';
import { startSandbox, TEST_TOKEN } from '../helpers/sandbox-fixture.js';

const REDACT_KEY = 'k3y-for-tests-0123456789abcdef';

interface Line {
  status: string;
  exitCode: number;
  snapshotDir: string;
  error?: { kind: string; message: string };
  snapshots?: Array<{ intact: boolean; problems: Array<{ kind: string; file: string }> }>;
}

const lastLine = (stdout: string): Line => JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Line;

describe('compliance exports (spawned CLI)', () => {
  it('one person over a window, with media: verifies, and each tampering exits 9', async () => {
    const sandbox = await startSandbox({ seed: 31, conversations: 40, media: { expiredRate: 0.2 } });
    const target = [...sandbox.data.conversations].sort((a, b) => b.messages.length - a.messages.length)[0]!;
    const since = new Date(
      target.messages[Math.min(60, target.messages.length - 1)]!.createdMs,
    ).toISOString();
    const out = await tempDir();
    const env = { IG_ACCESS_TOKEN: TEST_TOKEN };
    const exported = await runCli(
      exportArgs(sandbox.url, out, '--user-id', target.participant.id, '--since', since, '--download-media'),
      { env },
    );
    expect(exported.code, exported.stderr).toBe(0);
    const summary = lastLine(exported.stdout);
    const dir = summary.snapshotDir;
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(manifest['filters']).toEqual({ user_id: target.participant.id, since, until: null });
    expect((manifest['custody'] as { command_line: string[] }).command_line).toContain('--download-media');
    expect(await readdir(dir)).toEqual(
      expect.arrayContaining(['media', 'media.ndjson', 'media.parquet', 'manifest.sha256']),
    );

    const verified = await runCli(['verify', dir, '--json']);
    expect(verified.code, verified.stdout).toBe(0);
    expect(lastLine(verified.stdout)).toMatchObject({ status: 'intact', exitCode: 0 });
    const text = await runCli(['verify', dir]);
    expect(text.stdout).toMatch(/^OK {7}/);

    // Tampering: one flipped byte, and the text output names the file.
    const path = join(dir, 'messages.ndjson');
    const bytes = await readFile(path);
    bytes[5] = bytes[5]! ^ 1;
    await writeFile(path, bytes);
    const altered = await runCli(['verify', dir, '--json']);
    expect(altered.code).toBe(9);
    expect(lastLine(altered.stdout)).toMatchObject({
      status: 'altered',
      exitCode: 9,
      snapshots: [{ intact: false, problems: [{ kind: 'altered', file: 'messages.ndjson' }] }],
    });
    const shown = await runCli(['verify', join(out, `account=${sandbox.data.account.userId}`)]);
    expect(shown.code).toBe(9);
    expect(shown.stdout).toMatch(/ALTERED .*\n {2}altered +messages\.ndjson/);
  });

  it('--redact: no original id, username or text anywhere in the output, hashes stable across runs', async () => {
    const sandbox = await startSandbox({ seed: 32, conversations: 25 });
    const env = { IG_ACCESS_TOKEN: TEST_TOKEN, IG_EXPORT_REDACT_KEY: REDACT_KEY };
    const outs = [await tempDir(), await tempDir()];
    for (const out of outs) {
      const r = await runCli(exportArgs(sandbox.url, out, '--redact'), { env });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout + r.stderr).not.toContain(REDACT_KEY);
    }
    const secrets = [
      ...sandbox.data.conversations.flatMap((c) => [c.participant.id, c.participant.username ?? []].flat()),
      ...sandbox.data.conversations.flatMap((c) =>
        c.messages.map((m) => m.text).filter((t) => t.length >= 12),
      ),
      ...sandbox.data.conversations.flatMap((c) =>
        c.messages.flatMap((m) => Object.values(m.story ?? {}).map((s) => s.id)),
      ),
      REDACT_KEY,
      TEST_TOKEN,
    ];
    expect(secrets.length).toBeGreaterThan(50);
    for (const file of await allFiles(outs[0]!)) {
      if (file.path.includes('_state')) continue;
      const text = file.bytes.toString('latin1') + file.bytes.toString('utf8');
      for (const s of secrets) expect(text.includes(s), `${s} in ${file.path}`).toBe(false);
    }
    // The same key gives the same hashes: joins across exports still work.
    const participants = async (out: string): Promise<string[]> => {
      const accountDir = join(out, `account=${sandbox.data.account.userId}`);
      const [snapshot] = (await readdir(accountDir)).filter((n) => n.startsWith('snapshot='));
      const rows = await readNdjson(join(accountDir, snapshot!, 'conversations.ndjson'));
      return rows.map((r) => String(r['participant_id'])).sort();
    };
    const first = await participants(outs[0]!);
    expect(first.every((p) => /^h_[0-9a-f]{32}$/.test(p))).toBe(true);
    expect(await participants(outs[1]!)).toEqual(first);
  });

  it('refuses what cannot work, with exit 2 and one JSON line', async () => {
    const sandbox = await startSandbox({ seed: 33, conversations: 3 });
    const out = await tempDir();
    const env = { IG_ACCESS_TOKEN: TEST_TOKEN };
    const cases: Array<[string[], RegExp, Record<string, string>?]> = [
      [['--redact'], /--redact needs a key: set IG_EXPORT_REDACT_KEY/],
      [
        ['--redact', '--download-media'],
        /cannot be combined with --download-media/,
        { IG_EXPORT_REDACT_KEY: REDACT_KEY },
      ],
      [['--redact'], /too short/, { IG_EXPORT_REDACT_KEY: 'q9w8e7r6' }],
      [['--since', 'last tuesday'], /invalid option --since: must be a date/],
      [
        ['--user-id', '@some.person'],
        /--user-id: must be a numeric .*, not a username: .* \(participant_id\)$/m,
      ],
      [['--since', '2026-02-01', '--until', '2026-01-01'], /--until 2026-01-01 must be later than --since/],
      [['--since', '2999-01-01', '--full'], /--since 2999-01-01 is in the future/],
    ];
    for (const [flags, message, extra] of cases) {
      const r = await runCli(exportArgs(sandbox.url, out, ...flags), { env: { ...env, ...extra } });
      expect(r.code, flags.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(lastLine(r.stdout)).toMatchObject({ status: 'failed', exitCode: 2 });
    }
    // A window on an account that already has an archive would corrupt its watermark.
    expect((await runCli(exportArgs(sandbox.url, out), { env })).code).toBe(0);
    const incremental = await runCli(exportArgs(sandbox.url, out, '--since', '2026-01-01'), { env });
    expect(incremental.code).toBe(2);
    expect(incremental.stderr).toMatch(/add --full to export the window in full, or --user-id/);
    expect(
      (await runCli(exportArgs(sandbox.url, out, '--since', '2026-01-01', '--full'), { env })).code,
    ).toBe(0);
    // A window after the account's last message (the sandbox's data ends on 2026-11-20): nothing to publish, and the
    // summary says why instead of "nothing changed since the last run".
    const empty = await runCli(exportArgs(sandbox.url, out, '--since', '2026-11-21', '--full'), { env });
    expect(empty.code).toBe(0);
    expect(lastLine(empty.stdout)).toMatchObject({ snapshotDir: null, noSnapshot: 'empty_window' });
    const emptyText = await runCli(
      ['export', '--base-url', sandbox.url, '--output', out, '--since', '2026-11-21', '--full'],
      { env },
    );
    expect(emptyText.stdout).toMatch(/^No message in the time window: no snapshot published\n/);
    // verify of something that is not a snapshot is a usage error, not "altered".
    const notSnapshot = await runCli(['verify', join(out, '_state'), '--json']);
    expect(notSnapshot.code).toBe(2);
    expect(lastLine(notSnapshot.stdout).error?.message).toMatch(/neither a snapshot/);
    // Nor is one of a snapshot's files: the message names the folder to give instead.
    const accountDir = join(out, `account=${sandbox.data.account.userId}`);
    const snapshotName = (await readdir(accountDir)).find((n) => n.startsWith('snapshot='))!;
    const snapshotDir = join(accountDir, snapshotName);
    const oneFile = await runCli(['verify', join(snapshotDir, 'messages.parquet'), '--json']);
    expect(oneFile.code).toBe(2);
    expect(lastLine(oneFile.stdout).error?.message).toBe(
      `${join(snapshotDir, 'messages.parquet')} is a file; verify checks a whole snapshot: give the folder that holds it (${snapshotDir})`,
    );
  });
});
