import { readFileSync } from 'node:fs';
import { setMaxListeners } from 'node:events';
import type { Logger } from '../logger.js';
import { ExitCode } from './exit-codes.js';

/**
 * Runs `fn` with SIGINT/SIGTERM wired to its AbortSignal: the first signal asks every run in flight to finish what
 * it is doing and publish a partial snapshot; a second one exits at once (130) without publishing.
 */
export async function withStopSignals<T>(
  logger: Logger,
  json: boolean,
  fn: (signal: AbortSignal) => Promise<T>,
  /** What the first signal does, as the warning says it. */
  firstSignal = 'finishing in-flight work and publishing a partial snapshot',
): Promise<T> {
  const controller = new AbortController();
  // Every request in flight, every pacing wait and every account of a fleet listens to this one signal (and stops
  // listening when done): many listeners are its purpose, not a leak, so Node's warning above 10 is switched off.
  setMaxListeners(0, controller.signal);
  let signals = 0;
  const onSignal = (name: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      process.stderr.write(`ig-export: second ${name}: exiting now without publishing\n`);
      if (json) {
        const error = { kind: 'interrupted', message: `second ${name}: exited without publishing` };
        process.stdout.write(
          `${JSON.stringify({ status: 'failed', exitCode: ExitCode.Interrupted, error })}\n`,
        );
      }
      process.exit(ExitCode.Interrupted);
    }
    logger.warn(`${name} received: ${firstSignal} (send again to exit now)`);
    controller.abort(new Error(`${name} received`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await fn(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    afterTheRun();
  }
}

/**
 * The run is over: its summary is being written, and main then exits with the run's code. A signal meanwhile is let
 * pass. With no listener left, Node would restore the signal's default action, which ends the process by the signal
 * (130 to the shell) after a summary that says 4 or 0.
 */
function letPass(): void {
  // main exits in a moment, with the code the summary gives.
}

function afterTheRun(): void {
  for (const name of ['SIGINT', 'SIGTERM'] as const)
    if (!process.listeners(name).includes(letPass)) process.on(name, letPass);
}

/**
 * `npx ig-export …` runs ig-export under `sh -c`, and a signal sent to npx (`kill %1`, `timeout`, a container's init)
 * stops npx and the shell but not ig-export, which would go on holding its port or the account's lock. Started that
 * way (npm says so in `npm_command`), ig-export watches its parent: once it is gone, ig-export stops as on SIGTERM.
 * Run directly (node_modules/.bin/ig-export, a global install, systemd) nothing is watched, so `nohup … &` keeps
 * working.
 */
export function stopWhenLauncherGone(
  env: NodeJS.ProcessEnv = process.env,
  everyMs = 500,
  initCommand: () => string | undefined = readInitCommand,
): void {
  if (env['npm_command'] !== 'exec' && env['npm_lifecycle_event'] !== 'npx') return;
  const parent = process.ppid;
  // Killed while this process was still starting, the launcher is gone already and this process was handed to init:
  // stop now. (In a container whose first process is npx itself, that is the parent, not init taking an orphan.)
  if (parent === 1 && !/\b(npm|npx|sh|bash|dash)\b/.test(initCommand() ?? 'npm')) {
    setImmediate(() => process.kill(process.pid, 'SIGTERM'));
    return;
  }
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    process.kill(process.pid, 'SIGTERM');
  }, everyMs);
  timer.unref();
}

/** PID 1's command line (Linux), or undefined where it cannot be read. */
function readInitCommand(): string | undefined {
  try {
    return readFileSync('/proc/1/cmdline', 'utf8').replace(/\0/g, ' ');
  } catch {
    return undefined;
  }
}
