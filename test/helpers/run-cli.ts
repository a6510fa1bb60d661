import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(REPO_ROOT, 'dist/cli/main.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  child: ChildProcess;
  /** Resolves once stderr has printed something matching `pattern`. */
  waitForStderr(pattern: RegExp): Promise<void>;
  /** Resolves once stdout has printed something matching `pattern`. */
  waitForStdout(pattern: RegExp): Promise<void>;
  /** What stdout has printed so far. */
  stdoutSoFar(): string;
  result: Promise<CliResult>;
}

/** Spawns the compiled CLI (built by the global setup); IG_ACCESS_TOKEN is only set when the test sets it. */
export function spawnCli(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): RunningCli {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  if (!options.env || !('IG_ACCESS_TOKEN' in options.env)) delete env['IG_ACCESS_TOKEN'];
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ stream: 'stdout' | 'stderr'; pattern: RegExp; resolve: () => void }> = [];
  const wake = (): void => {
    for (const w of waiters.filter((x) => x.pattern.test(x.stream === 'stdout' ? stdout : stderr))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    wake();
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    wake();
  });
  const result = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return {
    child,
    result,
    stdoutSoFar: () => stdout,
    waitForStderr: (pattern) =>
      pattern.test(stderr)
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({ stream: 'stderr', pattern, resolve })),
    waitForStdout: (pattern) =>
      pattern.test(stdout)
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({ stream: 'stdout', pattern, resolve })),
  };
}

export function runCli(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<CliResult> {
  return spawnCli(args, options).result;
}

/** Every file below a directory, with its bytes (binary files too: a token could hide in Parquet pages). */
export async function allFiles(dir: string): Promise<Array<{ path: string; bytes: Buffer }>> {
  const out: Array<{ path: string; bytes: Buffer }> = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name);
      out.push({ path, bytes: await readFile(path) });
    }
  }
  return out;
}

/** `ig-export export` against a sandbox into `out`, unpaced enough for tests, with one JSON line; `more` adds flags. */
export function exportArgs(sandboxUrl: string, out: string, ...more: string[]): string[] {
  return ['export', '--base-url', sandboxUrl, '--output', out, '--max-rps', '1000', '--json', ...more];
}
