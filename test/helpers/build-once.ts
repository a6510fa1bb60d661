import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** vitest global setup: compile src/ so end-to-end tests spawn the current code, not a stale build. */
export default function setup(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
}
