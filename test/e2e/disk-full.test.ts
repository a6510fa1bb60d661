import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/export-options.js';
import { exportArgs, runCli } from '../helpers/run-cli.js';
import { startSandbox, TEST_TOKEN } from '../helpers/sandbox-fixture.js';
import { leaveFree, smallDisk } from '../helpers/small-disk.js';

const PAGE = 4096;
const pages = (bytes: number): number => Math.ceil(bytes / PAGE) * PAGE;

/** The sizes of a snapshot's files, as a clean export of the same sandbox writes them. */
async function fileSizes(snapshotDir: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const name of await readdir(snapshotDir)) out[name] = (await stat(join(snapshotDir, name))).size;
  return out;
}

function jsonLine(stdout: string): Record<string, unknown> {
  const lines = stdout.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}

async function leftovers(outputRoot: string, stateDir: string): Promise<string[]> {
  const found: string[] = [];
  for (const e of await readdir(outputRoot, { recursive: true }))
    if (String(e).includes('.tmp-')) found.push(String(e));
  for (const e of await readdir(stateDir).catch(() => [] as string[]))
    if (e.endsWith('.lock') || e.endsWith('.owner.json')) found.push(e);
  return found;
}

describe('a full disk ends the run truthfully: exit 8, one failed line, no hang, no lock, earlier snapshots intact', () => {
  it.for([
    ['messages.ndjson', () => 32 * 1024],
    [
      'messages.parquet',
      (s: Record<string, number>) => pages(s['messages.ndjson']!) + s['messages.parquet']! / 2,
    ],
    [
      'report.html',
      (s: Record<string, number>) =>
        ['messages.ndjson', 'messages.parquet', 'conversations.ndjson', 'conversations.parquet']
          .map((f) => pages(s[f]!))
          .reduce((a, b) => a + b, 0) +
        PAGE / 2,
    ],
    [
      'manifest.json',
      (s: Record<string, number>) =>
        [
          'messages.ndjson',
          'messages.parquet',
          'conversations.ndjson',
          'conversations.parquet',
          'report.html',
        ]
          .map((f) => pages(s[f]!))
          .reduce((a, b) => a + b, 0) +
        PAGE / 2,
    ],
  ] as const)('full while %s is written', async ([file, freeFor], ctx) => {
    const disk = await smallDisk(24 * 1024);
    if (disk === undefined) return ctx.skip();
    const sandbox = await startSandbox({ seed: 3, conversations: 12 });
    const env = { IG_ACCESS_TOKEN: TEST_TOKEN };
    const stateDir = await tempDir();
    // A first snapshot fits; its sizes tell how much room the second needs.
    const out = join(disk, 'out');
    const first = await runCli(exportArgs(sandbox.url, out, '--state-dir', stateDir), { env });
    expect(first.code).toBe(0);
    const sizes = await fileSizes(jsonLine(first.stdout)['snapshotDir'] as string);
    expect(sizes['messages.ndjson']).toBeGreaterThan(200_000); // the premise: NDJSON outgrows its 64 KiB buffer

    await leaveFree(disk, freeFor(sizes));
    const second = await runCli(exportArgs(sandbox.url, out, '--state-dir', stateDir, '--full'), { env });
    expect(second.code).toBe(8);
    const line = jsonLine(second.stdout);
    expect(line).toMatchObject({ status: 'failed', exitCode: 8, error: { kind: 'filesystem' } });
    expect((line['error'] as { message: string }).message).toMatch(
      new RegExp(`cannot write \\S*${file.replace('.', '\\.')}: ENOSPC, no space left on the device`),
    );
    expect(await leftovers(out, stateDir)).toEqual([]);
    const verify = await runCli(['verify', out, '--json']);
    expect(verify.code).toBe(0);
  });

  it('full while the run state is committed: exit 8 naming the state file', async (ctx) => {
    const disk = await smallDisk(64);
    if (disk === undefined) return ctx.skip();
    const sandbox = await startSandbox({ seed: 3, conversations: 12 });
    const out = await tempDir();
    await leaveFree(disk, 8 * 1024);
    const result = await runCli(exportArgs(sandbox.url, out, '--state-dir', disk), {
      env: { IG_ACCESS_TOKEN: TEST_TOKEN },
    });
    expect(result.code).toBe(8);
    const line = jsonLine(result.stdout);
    expect(line).toMatchObject({ status: 'failed', exitCode: 8, error: { kind: 'filesystem' } });
    expect((line['error'] as { message: string }).message).toMatch(/account=\d+\.sqlite: ENOSPC/);
    expect(await leftovers(out, disk)).toEqual([]);
  });
});
