import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSandbox } from '../../src/sandbox/create-sandbox.js';
import { runSampled } from './process-sample.js';

const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url));

/**
 * Compaction bench: the sandbox's `conversations` exported in full `fullExports` times and compacted, then once more;
 * the last compaction reads only the new snapshot beside the previous view, and is compared with `compact --rebuild`
 * of a copy, which reads every snapshot again. Target: less CPU than the rebuild, and the same messages file byte for
 * byte.
 */
export async function compactBench(conversations: number, fullExports: number): Promise<boolean> {
  const dir = await mkdtemp(join(tmpdir(), 'ig-export-compact-bench-'));
  const sandbox = await createSandbox({ conversations, rateLimit: { callsPerSecond: 0 } });
  try {
    const out = join(dir, 'out');
    const env = { ...process.env, IG_ACCESS_TOKEN: sandbox.options.token };
    const cli = async (root: string, ...args: string[]) => {
      const run = await runSampled([CLI, ...args, '--output', root, '--json', '--log-level', 'error'], env);
      if (run.code !== 0) throw new Error(`ig-export ${args[0] ?? ''} failed (exit ${run.code})`);
      return run;
    };
    const fullExport = () => cli(out, 'export', '--base-url', sandbox.url, '--max-rps', '1000', '--full');
    for (let i = 0; i < fullExports; i++) await fullExport();
    const first = await cli(out, 'compact');
    const exported = await fullExport();
    const copy = join(dir, 'copy');
    await cp(out, copy, { recursive: true });
    const folded = await cli(out, 'compact');
    const rebuilt = await cli(copy, 'compact', '--rebuild');
    const file = (root: string) =>
      readFile(join(root, 'current', `account=${sandbox.data.account.userId}`, 'messages.parquet'));
    const same = (await file(out)).equals(await file(copy));
    const rows = (JSON.parse(folded.stdout.trim()) as { current: Array<{ rows: Record<string, number> }> })
      .current[0]?.rows['messages.parquet'];
    const line = (what: string, r: typeof folded): string =>
      `  ${what.padEnd(44)} ${r.wall.toFixed(1).padStart(5)} s  CPU ${r.peak.cpuSeconds.toFixed(1).padStart(5)} s  peak RSS ${Math.round(r.peak.rssMb)} MB`;
    const pass = folded.peak.cpuSeconds < rebuilt.peak.cpuSeconds && same;
    console.log(
      `compact, ${conversations.toLocaleString('en')} conversations (${String(rows)} messages in the view), ${fullExports + 1} full exports ` +
        `(each ${exported.wall.toFixed(1)} s)\n` +
        `${line(`first, ${fullExports} snapshots`, first)}\n` +
        `${line('the next: 1 new snapshot + the previous view', folded)}\n` +
        `${line(`--rebuild: all ${fullExports + 1} snapshots again`, rebuilt)}\n` +
        `  ${(rebuilt.peak.cpuSeconds / folded.peak.cpuSeconds).toFixed(2)}x less CPU than the rebuild, ` +
        `messages file ${same ? 'identical' : 'DIFFERENT'}\n` +
        `  ${pass ? 'PASS' : 'FAIL'}: less CPU than the rebuild, the same file byte for byte`,
    );
    return pass;
  } finally {
    await sandbox.close();
    await rm(dir, { recursive: true, force: true });
  }
}
