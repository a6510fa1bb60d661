import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { redactText } from '../graph/redact.js';
import type { Custody } from '../snapshots/manifest.js';
import { packageRoot } from './tool-version.js';

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    // No passwd entry (some containers): the environment is the next best witness.
    return process.env['USER'] ?? process.env['LOGNAME'] ?? `uid ${process.getuid?.() ?? 'unknown'}`;
  }
}

/** SHA-256 of the package-lock.json ig-export runs from (it pins every dependency), when there is one. */
function lockfileDigest(): string | null {
  const root = packageRoot();
  if (root === undefined) return null;
  try {
    return createHash('sha256')
      .update(readFileSync(join(root, 'package-lock.json')))
      .digest('hex');
  } catch {
    return null;
  }
}

/**
 * Who ran this export and with what, for the manifest's chain of custody. The command line is given with every
 * known secret replaced (the token is refused on argv anyway; a key file's path is not a secret, its content is).
 */
export function collectCustody(argv: readonly string[], secrets: readonly string[]): Custody {
  return {
    os_user: osUser(),
    host: hostname(),
    command_line: ['ig-export', ...argv.map((a) => redactText(a, secrets))],
    node_version: process.version,
    lockfile_sha256: lockfileDigest(),
  };
}
