import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { currentViewDir, MANIFEST_FILE } from './layout.js';
import type { FileEntry } from './manifest.js';
import type { VerifyProblem } from './verify.js';

/** `current/account=<id>/manifest.json`. */
export interface CurrentViewManifest {
  built_at: string;
  account_id: string;
  /** Every snapshot whose rows this view holds, including those folded by earlier compactions. */
  snapshot_ids: string[];
  files: Record<string, FileEntry>;
}

/** The current view's manifest, or undefined when the account has none yet. */
export async function readCurrentView(
  outputRoot: string,
  accountId: string,
): Promise<CurrentViewManifest | undefined> {
  try {
    const text = await readFile(join(currentViewDir(outputRoot, accountId), MANIFEST_FILE), 'utf8');
    const m = JSON.parse(text) as Partial<CurrentViewManifest>;
    return { ...(m as CurrentViewManifest), snapshot_ids: m.snapshot_ids ?? [] };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** The previous current view is not what its manifest says: it is never folded into the next one (exit 9). */
export class CurrentViewAlteredError extends Error {
  override name = 'CurrentViewAlteredError';

  constructor(
    readonly dir: string,
    problems: readonly VerifyProblem[],
  ) {
    super(
      `the current view ${dir} is not what its manifest says (${problems
        .map((p) => `${p.file}: ${p.kind}`)
        .join(
          ', ',
        )}); it was not folded in. Rebuild it from the snapshots with "ig-export compact --rebuild" ` +
        '(rows of snapshots pruned since are then dropped; the command says how many)',
    );
  }
}

/** A snapshot's Parquet file, or its folder's name, is not what its manifest says: nothing is compacted (exit 9). */
export class SnapshotAlteredError extends Error {
  override name = 'SnapshotAlteredError';

  constructor(
    readonly dir: string,
    problems: readonly VerifyProblem[],
  ) {
    super(
      `the snapshot ${dir} is not what its manifest says (${problems.map((p) => `${p.file}: ${p.detail}`).join(', ')}); ` +
        'nothing was compacted. Restore the snapshot from a backup, or remove it (its rows are then not in the view), ' +
        `and compact again; "ig-export verify ${dir}" lists every difference`,
    );
  }
}
