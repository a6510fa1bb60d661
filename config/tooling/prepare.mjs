// `npm ci` (prepare): compiles the CLI, then makes it executable. The first `npx ig-export …` in a clone installs the
// project into npx's cache, which runs prepare again: when the build is already newer than every source, it is not
// redone (that first call took 15–30 s, the build, instead of about 2 s).
import { execFileSync } from 'node:child_process';
import { chmodSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');

/**
 * The newest modification time under `dir` (files only).
 * @param {string} dir
 * @returns {number}
 */
function newest(dir) {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) t = Math.max(t, statSync(join(String(entry.parentPath), entry.name)).mtimeMs);
  }
  return t;
}

const built = statSync(cli, { throwIfNoEntry: false })?.mtimeMs ?? 0;
const sources = Math.max(
  newest(join(root, 'src')),
  ...['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'].map(
    (f) => statSync(join(root, f)).mtimeMs,
  ),
);
if (process.argv.includes('--force') || built <= sources) {
  execFileSync(
    process.execPath,
    [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
}
chmodSync(cli, 0o755);
