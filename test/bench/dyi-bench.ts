import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSandbox } from '../../src/sandbox/create-sandbox.js';
import { writeDyiArchive } from '../../src/sandbox/dyi/dyi-archive-writer.js';
import { runSampled } from './process-sample.js';

const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url));
const PER_CONVERSATION = 1000;

/**
 * Archive import bench (issue #21): the sandbox with `messages` messages (conversations of 1,000), exported in full,
 * then its "Download your information" archive imported by the CLI, sampled for wall time and peak RSS. Target:
 * a 100,000-message archive in under a minute, in bounded memory (the peak barely moves between sizes).
 */
export async function dyiBench(messageCounts: readonly number[]): Promise<boolean> {
  let ok = true;
  const peaks: number[] = [];
  for (const messages of messageCounts) {
    const dir = await mkdtemp(join(tmpdir(), 'ig-export-dyi-bench-'));
    const conversations = Math.max(1, Math.round(messages / PER_CONVERSATION));
    const sandbox = await createSandbox({
      conversations,
      messageCounts: Array.from({ length: conversations }, () => PER_CONVERSATION),
      maxMessagesPerConversation: PER_CONVERSATION,
      rateLimit: { callsPerSecond: 0 },
    });
    try {
      const out = join(dir, 'out');
      const env = { ...process.env, IG_ACCESS_TOKEN: sandbox.options.token };
      const exported = await runSampled(
        [
          CLI,
          'export',
          '--base-url',
          sandbox.url,
          '--max-rps',
          '1000',
          '--output',
          out,
          '--json',
          '--log-level',
          'error',
        ],
        env,
      );
      if (exported.code !== 0) throw new Error(`the export failed (exit ${exported.code})`);
      const zip = join(dir, 'dyi.zip');
      const archive = await writeDyiArchive(sandbox.data, zip);
      // Once as a user runs it, then into a copy of the export with the JS heap capped at 128 MB: finishing within that
      // cap shows that what the import keeps alive does not grow with the archive (the default heap is merely lazy).
      const copy = join(dir, 'out-capped');
      await cp(out, copy, { recursive: true });
      const run = await runSampled(
        [CLI, 'import-dyi', zip, '--output', out, '--json', '--log-level', 'error'],
        env,
      );
      const capped = await runSampled(
        [
          '--max-old-space-size=128',
          CLI,
          'import-dyi',
          zip,
          '--output',
          copy,
          '--json',
          '--log-level',
          'error',
        ],
        env,
      );
      const summary = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
      const pass = run.code === 0 && summary['status'] === 'complete' && run.wall < 60 && capped.code === 0;
      ok &&= pass;
      peaks.push(capped.peak.rssMb);
      console.log(
        `import-dyi, ${archive.messages.toLocaleString('en')} archive messages in ${archive.threads} threads ` +
          `(export: ${exported.wall.toFixed(1)} s)\n` +
          `  ${run.wall.toFixed(1)} s (${Math.round(archive.messages / run.wall).toLocaleString('en')} messages/s), ` +
          `peak RSS ${Math.round(run.peak.rssMb)} MB, CPU ${run.peak.cpuSeconds.toFixed(1)} s; ` +
          `matched ${String(summary['matched'])}, ambiguous ${String(summary['ambiguous'])}, unmatched ${String(summary['unmatched'])}\n` +
          `  with the heap capped at 128 MB: exit ${String(capped.code)}, ${capped.wall.toFixed(1)} s, peak RSS ${Math.round(capped.peak.rssMb)} MB\n` +
          `  ${pass ? 'PASS' : 'FAIL'}: exit 0, under 60 s, and within a 128 MB heap`,
      );
    } finally {
      await sandbox.close();
      await rm(dir, { recursive: true, force: true });
    }
  }
  if (peaks.length > 1)
    console.log(
      `  peak RSS with the capped heap, from the smallest to the largest archive: ${peaks.map((p) => `${Math.round(p)} MB`).join(' → ')}`,
    );
  return ok;
}
