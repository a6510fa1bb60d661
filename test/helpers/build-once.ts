import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** vitest global setup: compile and bundle src/ (as `npm run build`) so end-to-end tests spawn the current code. */
export default function setup(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  execFileSync(process.execPath, ['config/tooling/prepare.mjs', '--force'], {
    cwd: root,
    stdio: 'inherit',
  });
}
