import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FORMATS, type TableFormat } from './formats.js';

/**
 * Where everything of an export lives on disk, in one place: the export, crash recovery, compact, prune and verify
 * all find snapshots, their files and the current view through these names.
 *
 * ```
 * <output>/account=<id>/snapshot=<id>/{messages,conversations}.{ndjson,parquet}, manifest.json, manifest.sha256
 * <output>/account=<id>/.snapshot=<id>.tmp-<tag>/    a snapshot being written (or left by a killed run)
 * <output>/current/account=<id>/                       the compacted current view
 * ```
 */
export const MANIFEST_FILE = 'manifest.json';
/** `sha256sum` format (`<hex>  manifest.json`), so `sha256sum -c manifest.sha256` checks it too. */
export const MANIFEST_DIGEST_FILE = 'manifest.sha256';

/** The tables every snapshot holds, each written as NDJSON and Parquet (`media` only with --download-media). */
export const SNAPSHOT_TABLES = ['messages', 'conversations'] as const;
export type SnapshotTable = (typeof SNAPSHOT_TABLES)[number] | 'media';
/** Downloaded media files, content-addressed: `media/<sha256>`. */
export const MEDIA_DIR = 'media';
/** Every table is written in each of these formats (formats.ts holds how). */
export const TABLE_FORMATS: readonly TableFormat[] = FORMATS.map((f) => f.name);
export type { TableFormat };

export const tableFile = (table: SnapshotTable, format: TableFormat): string => `${table}.${format}`;

/** Every data file name of a snapshot, in a fixed order. */
export const DATA_FILES: readonly string[] = SNAPSHOT_TABLES.flatMap((t) =>
  TABLE_FORMATS.map((f) => tableFile(t, f)),
);

export function accountDir(outputRoot: string, accountId: string): string {
  return join(outputRoot, `account=${accountId}`);
}

export function snapshotDir(outputRoot: string, accountId: string, snapshotId: string): string {
  return snapshotDirIn(accountDir(outputRoot, accountId), snapshotId);
}

export function snapshotDirIn(accountDirPath: string, snapshotId: string): string {
  return join(accountDirPath, `snapshot=${snapshotId}`);
}

/** A hidden name nobody reads as a snapshot; `tag` tells writers (a pid) from pruners apart. */
export function temporarySnapshotDir(accountDirPath: string, snapshotId: string, tag: string): string {
  return join(accountDirPath, `.snapshot=${snapshotId}.tmp-${tag}`);
}

export function isTemporarySnapshot(name: string): boolean {
  return name.startsWith('.snapshot=') && name.includes('.tmp-');
}

export function currentViewDir(outputRoot: string, accountId: string): string {
  return join(outputRoot, 'current', `account=${accountId}`);
}

/** `20261127T140512.123Z`: sortable, no colons (safe in folder names on every OS and in hive paths). */
export function snapshotIdFor(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '');
}

/** Published snapshot ids in an account directory, oldest first (none when it does not exist). */
export async function snapshotIdsIn(accountDirPath: string): Promise<string[]> {
  const names = await readdir(accountDirPath).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [] as string[];
    throw e;
  });
  return names
    .filter((n) => n.startsWith('snapshot='))
    .map((n) => n.slice('snapshot='.length))
    .sort();
}

/** Temporary snapshot directories in an account directory (left by killed runs when nobody holds the lock). */
export async function temporarySnapshotsIn(accountDirPath: string): Promise<string[]> {
  const names = await readdir(accountDirPath).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [] as string[];
    throw e;
  });
  return names.filter(isTemporarySnapshot).map((n) => join(accountDirPath, n));
}

/** Every account folder (`account=<id>/`) under the output root. */
export async function accountsIn(outputRoot: string): Promise<string[]> {
  const entries = await readdir(outputRoot, { withFileTypes: true }).catch(() => []);
  return (
    entries
      // Links too: whoever reads or writes an account folder refuses one that is a link (refuseLink), never skips it.
      .filter((e) => (e.isDirectory() || e.isSymbolicLink()) && e.name.startsWith('account='))
      .map((e) => e.name.slice('account='.length))
  );
}

/** The account's run lock (a directory) in the state directory. */
export function accountLockDir(stateDir: string, accountId: string): string {
  return join(stateDir, `account=${accountId}`);
}

/** The account's SQLite state in the state directory. */
export function accountStatePath(stateDir: string, accountId: string): string {
  return join(stateDir, `account=${accountId}.sqlite`);
}

/** The snapshot id of a snapshot directory path. */
export function snapshotIdOfDir(dir: string): string {
  const name = dir.split(/[\\/]/).pop() ?? '';
  return name.startsWith('snapshot=') ? name.slice('snapshot='.length) : name;
}
