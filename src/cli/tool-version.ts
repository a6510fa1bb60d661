import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** ig-export's own package directory, found by walking up from this file (src/ under vitest, dist/ when built). */
export function packageRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'ig-export') return dir;
    } catch {
      // no package.json at this level: keep walking up
    }
    dir = dirname(dir);
  }
  return undefined;
}

/** The package version. */
export function toolVersion(): string {
  const root = packageRoot();
  if (root === undefined) return '0.0.0';
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}
