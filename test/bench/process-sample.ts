import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';

const CLOCK_TICKS = 100;

export interface Sample {
  rssMb: number;
  fds: number;
  cpuSeconds: number;
}

/** RSS, open file descriptors and CPU time of a running process, from /proc (Linux). */
export async function sample(pid: number): Promise<Sample | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    // Fields 14 and 15 of /proc/<pid>/stat (user and system ticks), counted after the command name.
    const ticks = Number(stat[11] ?? 0) + Number(stat[12] ?? 0);
    return {
      rssMb: rssKb / 1024,
      fds: (await readdir(`/proc/${pid}/fd`)).length,
      cpuSeconds: ticks / CLOCK_TICKS,
    };
  } catch {
    return undefined; // the process has ended
  }
}

/** Runs `node <args>` with `env`, sampling it every 200 ms: exit code, stdout, wall seconds, and the peaks. */
export async function runSampled(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; wall: number; peak: Sample }> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.resume();
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  let peak: Sample = { rssMb: 0, fds: 0, cpuSeconds: 0 };
  let running = true;
  void exited.then(() => (running = false));
  while (running) {
    const s = child.pid === undefined ? undefined : await sample(child.pid);
    if (s)
      peak = {
        rssMb: Math.max(peak.rssMb, s.rssMb),
        fds: Math.max(peak.fds, s.fds),
        cpuSeconds: Math.max(peak.cpuSeconds, s.cpuSeconds),
      };
    await new Promise((r) => setTimeout(r, 200));
  }
  const code = await exited;
  return { code, stdout, wall: (performance.now() - started) / 1000, peak };
}
