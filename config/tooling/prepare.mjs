// `npm ci` (prepare): compiles the sources (tsc, into dist/src and dist/test), then bundles the CLI into dist/cli
// (rolldown) and makes it executable. The bundle is what `ig-export` runs: a handful of files instead of some 250
// modules, which cuts what a run spends loading code (README, "Start-up cost"). The first
// `npx ig-export …` in a clone installs the project into npx's cache, which runs prepare again: when the build is
// already newer than every source, it is not redone (that first call took 15–30 s, the build, instead of about 2 s).
import { execFileSync } from 'node:child_process';
import { chmodSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist', 'cli', 'main.js');

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

/**
 * The CLI and the Parquet encoder thread as two entries; each command's code is its own chunk, loaded when that
 * command runs. Native and WebAssembly packages stay in node_modules (the encoder thread loads parquet-wasm by
 * path).
 */
async function bundle() {
  const { build } = await import('rolldown');
  const out = join(root, 'dist', 'cli');
  rmSync(out, { recursive: true, force: true });
  await build({
    input: {
      main: join(root, 'dist', 'src', 'cli', 'main.js'),
      'encoder-thread': join(root, 'dist', 'src', 'writers', 'encoder-thread.js'),
    },
    platform: 'node',
    external: [/^node:/, 'better-sqlite3', '@duckdb/node-api', 'parquet-wasm', 'typescript'],
    logLevel: 'warn',
    output: {
      dir: out,
      format: 'esm',
      entryFileNames: '[name].js',
      chunkFileNames: '[name]-[hash].js',
    },
  });
}

const built = statSync(cli, { throwIfNoEntry: false })?.mtimeMs ?? 0;
const sources = Math.max(
  newest(join(root, 'src')),
  ...['tsconfig.json', 'tsconfig.build.json', 'package-lock.json', 'config/tooling/prepare.mjs'].map(
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
  await bundle();
}
chmodSync(cli, 0o755);
