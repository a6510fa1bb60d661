import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureDirSync, pathExists, refuseLink } from '../output-path.js';
import {
  accountDir,
  accountsIn,
  snapshotDir,
  snapshotIdFor,
  snapshotIdsIn,
  temporarySnapshotDir,
} from './layout.js';
import { readManifest, writeManifest, type Manifest } from './manifest.js';

/** One snapshot being written: invisible to every reader until it is published. */
export interface StagedSnapshot {
  readonly snapshotId: string;
  /** A local folder the writers fill (an object store uploads it when publishing). */
  readonly dir: string;
  /** Writes the manifest last, as the commit marker, and makes the whole snapshot visible at once; says where. */
  publish(manifest: Manifest): Promise<string>;
  /** Nothing is published: the staged files go. */
  discard(): Promise<void>;
}

/**
 * Where snapshots live, laid out as `account=<id>/snapshot=<id>/` (hive partitioning). The local file system is the
 * first store; an object store (S3, GCS) would be one new file implementing this interface: stage locally, upload
 * the tables, put `manifest.json` last (a snapshot without one is not listed), list by prefix, delete by prefix.
 */
export interface SnapshotStore {
  /** A human-readable location (`--output`): messages and the summary name it. */
  readonly root: string;
  accounts(): Promise<string[]>;
  /** Published snapshots of an account, oldest first. */
  list(accountId: string): Promise<string[]>;
  has(accountId: string, snapshotId: string): Promise<boolean>;
  stage(accountId: string, snapshotId: string): StagedSnapshot;
  readManifest(accountId: string, snapshotId: string): Promise<Manifest>;
  /** Where a reader opens one file of a snapshot (a path here; a URL for an object store). */
  fileLocation(accountId: string, snapshotId: string, file: string): string;
  /** Removes a published snapshot; readers see it whole or not at all. */
  remove(accountId: string, snapshotId: string): Promise<void>;
}

/**
 * The local file system: a snapshot is staged under a hidden temporary name in its account folder and published by
 * one rename (atomic on one file system), after its manifest was written. Links where an account folder belongs are
 * refused, never followed.
 */
export class LocalSnapshotStore implements SnapshotStore {
  constructor(readonly root: string) {}

  accounts(): Promise<string[]> {
    return accountsIn(this.root);
  }

  async list(accountId: string): Promise<string[]> {
    refuseLink(accountDir(this.root, accountId));
    return snapshotIdsIn(accountDir(this.root, accountId));
  }

  has(accountId: string, snapshotId: string): Promise<boolean> {
    return pathExists(snapshotDir(this.root, accountId, snapshotId));
  }

  stage(accountId: string, snapshotId: string): StagedSnapshot {
    refuseLink(accountDir(this.root, accountId));
    const finalDir = snapshotDir(this.root, accountId, snapshotId);
    const dir = temporarySnapshotDir(accountDir(this.root, accountId), snapshotId, String(process.pid));
    ensureDirSync(dir);
    return {
      snapshotId,
      dir,
      async publish(manifest) {
        await writeManifest(dir, manifest);
        await rename(dir, finalDir);
        return finalDir;
      },
      async discard() {
        await rm(dir, { recursive: true, force: true });
      },
    };
  }

  readManifest(accountId: string, snapshotId: string): Promise<Manifest> {
    return readManifest(snapshotDir(this.root, accountId, snapshotId));
  }

  fileLocation(accountId: string, snapshotId: string, file: string): string {
    return join(snapshotDir(this.root, accountId, snapshotId), file);
  }

  /** Renamed to a hidden temporary name first (one atomic step), then deleted; a leftover of a killed removal is
   * cleared by the next export, like any temporary folder. */
  async remove(accountId: string, snapshotId: string): Promise<void> {
    const hidden = temporarySnapshotDir(accountDir(this.root, accountId), snapshotId, `prune-${process.pid}`);
    await rename(snapshotDir(this.root, accountId, snapshotId), hidden);
    await rm(hidden, { recursive: true, force: true });
  }
}

/** The store `--output` names: a local folder today; an object store would be chosen here by the URL's scheme. */
export function snapshotStoreFor(output: string): SnapshotStore {
  return new LocalSnapshotStore(output);
}

/** The first millisecond from `fromMs` whose snapshot id the account has not used (two runs may share a millisecond). */
export async function unusedSnapshotMs(
  store: SnapshotStore,
  accountId: string,
  fromMs: number,
): Promise<number> {
  let ms = fromMs;
  while (await store.has(accountId, snapshotIdFor(ms))) ms++;
  return ms;
}
