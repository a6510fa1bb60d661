import { cp, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox } from '../../src/sandbox/create-sandbox.js';
import { silentLogger } from '../../src/logger.js';
import { planPrune } from '../../src/snapshots/prune.js';
import { digestOf, ManifestError } from '../../src/snapshots/manifest.js';
import { verifySnapshot, type ProblemKind } from '../../src/snapshots/verify.js';
import { exportSandbox, tempDir } from '../helpers/export-options.js';

/** One published snapshot, copied fresh for each tampering. */
let original: string;
let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ig-export-verify-'));
  const sandbox = await createSandbox({ seed: 3, conversations: 12, rateLimit: { callsPerSecond: 0 } });
  try {
    original = (await exportSandbox(sandbox, root)).snapshotDir!;
  } finally {
    await sandbox.close();
  }
});

afterAll(() => rm(root, { recursive: true, force: true }));

async function copy(): Promise<string> {
  const dir = join(await tempDir(), basename(original));
  await cp(original, dir, { recursive: true });
  return dir;
}

async function kindsAfter(tamper: (dir: string) => Promise<void>): Promise<ProblemKind[]> {
  const dir = await copy();
  await tamper(dir);
  const result = await verifySnapshot(dir);
  expect(result.intact).toBe(false);
  return result.problems.map((p) => p.kind);
}

async function flipByte(path: string, offset: number): Promise<void> {
  const bytes = await readFile(path);
  bytes[offset] = (bytes[offset] ?? 0) ^ 0x01;
  await writeFile(path, bytes);
}

describe('verify: a snapshot checked against its manifest', () => {
  it('a published snapshot is intact: every file, its rows, and the manifest digest', async () => {
    const result = await verifySnapshot(await copy());
    expect(result.problems).toEqual([]);
    expect(result.intact).toBe(true);
    expect(result.filesChecked).toBe(5); // 4 tables and report.html
    // manifest.sha256 is in sha256sum format.
    const digest = await readFile(join(original, 'manifest.sha256'), 'utf8');
    expect(digest).toBe(`${digestOf(await readFile(join(original, 'manifest.json')))}  manifest.json\n`);
  });

  it('detects one flipped byte in a data file', async () => {
    expect(await kindsAfter((d) => flipByte(join(d, 'messages.ndjson'), 10))).toEqual(['altered']);
    expect(await kindsAfter((d) => flipByte(join(d, 'conversations.parquet'), 100))).toEqual(['altered']);
  });

  it('detects a snapshot copied or renamed under another snapshot id (compaction orders by folder name)', async () => {
    const renamed = join(await tempDir(), 'snapshot=20991231T000000.000Z');
    await cp(original, renamed, { recursive: true });
    const result = await verifySnapshot(renamed);
    expect(result.problems).toEqual([
      expect.objectContaining({
        kind: 'misplaced',
        detail: expect.stringContaining('snapshot=20991231T000000.000Z') as string,
      }),
    ]);
    // Handed over under a name that claims no id (a case number), it is intact.
    const handedOver = join(await tempDir(), 'case-4711');
    await cp(original, handedOver, { recursive: true });
    expect((await verifySnapshot(handedOver)).intact).toBe(true);
  });

  it('detects a deleted file', async () => {
    expect(await kindsAfter((d) => rm(join(d, 'conversations.ndjson')))).toEqual(['missing']);
  });

  it('detects an added file', async () => {
    expect(await kindsAfter((d) => writeFile(join(d, 'notes.txt'), 'hello'))).toEqual(['extra']);
  });

  it('detects a truncated Parquet file', async () => {
    const kinds = await kindsAfter(async (d) => {
      const path = join(d, 'messages.parquet');
      await truncate(path, (await readFile(path)).length - 100);
    });
    expect(kinds).toEqual(['truncated']);
  });

  it('detects an edited manifest', async () => {
    const kinds = await kindsAfter(async (d) => {
      const path = join(d, 'manifest.json');
      await writeFile(
        path,
        (await readFile(path, 'utf8')).replace('"status": "complete"', '"status": "partial"'),
      );
    });
    expect(kinds).toEqual(['manifest_altered']);
  });

  it('detects a deleted manifest digest, and a manifest that is no longer a manifest', async () => {
    expect(await kindsAfter((d) => rm(join(d, 'manifest.sha256')))).toEqual(['manifest_digest_missing']);
    expect(await kindsAfter((d) => writeFile(join(d, 'manifest.json'), '{"hello": 1}\n'))).toEqual([
      'manifest_altered',
      'manifest_invalid',
    ]);
  });

  it('a rewritten file with a consistently rewritten manifest still fails on its row accounting', async () => {
    // Someone drops a message row and rewrites the file entry and the digest to match: the per-conversation
    // accounting (and the message count) no longer add up.
    const kinds = await kindsAfter(async (d) => {
      const ndjson = join(d, 'messages.ndjson');
      const lines = (await readFile(ndjson, 'utf8')).split('\n');
      const text = `${lines.slice(1).join('\n')}`;
      await writeFile(ndjson, text);
      const manifest = JSON.parse(await readFile(join(d, 'manifest.json'), 'utf8')) as {
        files: Record<string, { rows: number; bytes: number; sha256: string }>;
      };
      const entry = manifest.files['messages.ndjson']!;
      manifest.files['messages.ndjson'] = {
        rows: entry.rows - 1,
        bytes: Buffer.byteLength(text),
        sha256: digestOf(text),
      };
      const manifestText = `${JSON.stringify(manifest, null, 2)}\n`;
      await writeFile(join(d, 'manifest.json'), manifestText);
      await writeFile(join(d, 'manifest.sha256'), `${digestOf(manifestText)}  manifest.json\n`);
    });
    expect(new Set(kinds)).toEqual(new Set(['rows_mismatch']));
  });
});

describe('an untrusted snapshot on disk', () => {
  it('is left out of the state with a warning, and its conversations are exported again; prune refuses it', async () => {
    const sandbox = await createSandbox({ seed: 4, conversations: 6, rateLimit: { callsPerSecond: 0 } });
    const out = await tempDir();
    try {
      const first = await exportSandbox(sandbox, out);
      const path = join(first.snapshotDir!, 'manifest.json');
      await writeFile(
        path,
        (await readFile(path, 'utf8')).replace('"manifest_version": 2', '"manifest_version": 1'),
      );
      // The state is lost (a new state dir): crash recovery reads the snapshots on disk.
      const warnings: string[] = [];
      const logger = { ...silentLogger, warn: (m: string) => warnings.push(m) };
      const second = await exportSandbox(
        sandbox,
        out,
        { run: { stateDir: join(out, 'state2') } },
        { logger },
      );
      expect(second).toMatchObject({ status: 'complete', mode: 'full', skippedConversations: 0 });
      expect(second.counts.conversations).toBe(6);
      expect(warnings.join('\n')).toMatch(
        /is not trusted and not in the state .*manifest_version.*ig-export verify/,
      );
      await expect(
        planPrune(out, sandbox.data.account.userId, { keepNewest: 1 }, Date.now()),
      ).rejects.toBeInstanceOf(ManifestError);
    } finally {
      await sandbox.close();
    }
  });
});
