import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSandbox } from '../../src/sandbox/create-sandbox.js';

const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url));
const RUNS = 9;

/** CPU seconds (user + system) of one `node <args>` run (this node), as bash's `times` reports its children. */
function cpuSeconds(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      ['-c', '"$@" >/dev/null 2>&1; times', 'bash', process.execPath, ...args],
      { env },
      (error, stdout) => {
        if (error) return reject(new Error(error.message));
        // The second line holds the children's user and system time: `0m0.590s 0m0.180s`.
        const line = stdout.trim().split('\n')[1] ?? '';
        const seconds = [...line.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
        if (seconds.length !== 2) return reject(new Error(`cannot read times: ${stdout}`));
        resolve(seconds[0]! + seconds[1]!);
      },
    );
  });
}

async function median(run: () => Promise<number>): Promise<number> {
  const all: number[] = [];
  for (let i = 0; i < RUNS; i++) all.push(await run());
  return all.sort((a, b) => a - b)[Math.floor(RUNS / 2)]!;
}

/**
 * Start-up bench: the CPU (user + system, median of 9) of `ig-export --version` and of a one-conversation export
 * against a sandbox in this process (whose CPU is not counted). Targets (issue #22): --version under 0.3 s, the
 * export at most 0.8 s.
 */
export async function startupBench(): Promise<boolean> {
  const sandbox = await createSandbox({ seed: 1, conversations: 1, rateLimit: { callsPerSecond: 0 } });
  const dir = await mkdtemp(join(tmpdir(), 'ig-export-startup-'));
  try {
    const env = { ...process.env, IG_ACCESS_TOKEN: 'sandbox-token' };
    const version = await median(() => cpuSeconds([CLI, '--version'], env));
    let n = 0;
    const exportCpu = await median(() =>
      cpuSeconds(
        [
          CLI,
          'export',
          '--base-url',
          sandbox.url,
          '--output',
          join(dir, `run${n++}`),
          '--json',
          '--log-level',
          'error',
        ],
        env,
      ),
    );
    const pass = version < 0.3 && exportCpu <= 0.8;
    console.log(
      [
        `startup: CPU seconds (user + system), median of ${RUNS}`,
        `  ig-export --version ${version.toFixed(2)}; a one-conversation export ${exportCpu.toFixed(2)}`,
        `  ${pass ? 'PASS' : 'FAIL'}: --version under 0.3, the export at most 0.8`,
      ].join('\n'),
    );
    return pass;
  } finally {
    await sandbox.close();
    await rm(dir, { recursive: true, force: true });
  }
}
