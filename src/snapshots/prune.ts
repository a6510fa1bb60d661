import { readCurrentView } from './current-view.js';
import { snapshotStoreFor } from './snapshot-store.js';

/**
 * Retention: which snapshots of an account to remove. Only snapshots whose rows the current view already holds
 * are ever removed (so no hydrated row loses its last copy), and the newest snapshot is always kept.
 */
export type Retention = { keepNewest: number } | { keepYoungerThanMs: number };

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** `30` keeps the 30 newest snapshots; `14d`, `12h`, `90m`, `2w` keep those younger than that. */
export function parseRetention(text: string): Retention | undefined {
  const count = /^(\d+)$/.exec(text);
  if (count) return Number(count[1]) >= 1 ? { keepNewest: Number(count[1]) } : undefined;
  const age = /^(\d+)\s*([mhdw])$/.exec(text);
  if (!age?.[1] || !age[2]) return undefined;
  return { keepYoungerThanMs: Number(age[1]) * (UNITS[age[2]] ?? 0) };
}

/** `20261127T140512.123Z` → epoch ms. */
export function snapshotTimeMs(snapshotId: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})\.(\d{3})Z$/.exec(snapshotId);
  if (!m) return Number.NaN;
  const [, y, mo, d, h, mi, s, ms] = m.map(Number) as [number, ...number[]];
  return Date.UTC(y ?? 0, (mo ?? 1) - 1, d, h, mi, s, ms);
}

export interface PrunePlan {
  accountId: string;
  keep: string[];
  remove: string[];
  /** Snapshots to remove that the current view does not hold yet: pruning is refused until `compact` ran. */
  notCompacted: string[];
  bytes: number;
}

export async function planPrune(
  outputRoot: string,
  accountId: string,
  retention: Retention,
  nowMs: number,
): Promise<PrunePlan> {
  const store = snapshotStoreFor(outputRoot);
  const ids = await store.list(accountId);
  const newestFirst = [...ids].reverse();
  const kept = new Set(
    'keepNewest' in retention
      ? newestFirst.slice(0, retention.keepNewest)
      : newestFirst.filter((id, i) => i === 0 || nowMs - snapshotTimeMs(id) < retention.keepYoungerThanMs),
  );
  const remove = ids.filter((id) => !kept.has(id));
  const folded = new Set((await readCurrentView(outputRoot, accountId))?.snapshot_ids ?? []);
  let bytes = 0;
  for (const id of remove) {
    const manifest = await store.readManifest(accountId, id);
    bytes += Object.values(manifest.files).reduce((a, f) => a + f.bytes, 0);
  }
  return {
    accountId,
    keep: ids.filter((id) => kept.has(id)),
    remove,
    notCompacted: remove.filter((id) => !folded.has(id)),
    bytes,
  };
}

/** Removes the planned snapshots, each whole or not at all (SnapshotStore.remove). */
export async function pruneSnapshots(outputRoot: string, plan: PrunePlan): Promise<void> {
  if (plan.notCompacted.length > 0)
    throw new Error('refusing to prune snapshots the current view does not hold');
  const store = snapshotStoreFor(outputRoot);
  for (const id of plan.remove) await store.remove(plan.accountId, id);
}
