import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Sandbox } from '../../src/sandbox/create-sandbox.js';
import { readNdjson } from './expected-rows.js';

const pages = (n: number, pageSize: number): number => Math.max(1, Math.ceil(n / pageSize));

/** Snapshot directories of the sandbox's account under `out`, oldest first. */
export async function snapshotDirs(sandbox: Sandbox, out: string): Promise<string[]> {
  const accountDir = join(out, `account=${sandbox.data.account.userId}`);
  const names = await readdir(accountDir).catch(() => [] as string[]);
  return names
    .filter((n) => n.startsWith('snapshot='))
    .sort()
    .map((n) => join(accountDir, n));
}

/** Conversations some published snapshot holds in full: a conversation row and no failure recorded for it. */
export async function finishedConversations(dirs: readonly string[]): Promise<Set<string>> {
  const finished = new Set<string>();
  for (const dir of dirs) {
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as {
      failures: Array<{ conversation_id?: string }>;
    };
    const failed = new Set(manifest.failures.map((f) => f.conversation_id));
    for (const row of await readNdjson(join(dir, 'conversations.ndjson'))) {
      const id = String(row['conversation_id']);
      if (!failed.has(id)) finished.add(id);
    }
  }
  return finished;
}

/**
 * The calls a run that continues an interrupted full export must make, computed from the sandbox's data and what is
 * on disk: the account, every conversations page, and for each conversation not yet published in full its
 * message-id pages and the details of its 20 most recent messages.
 */
export function callsToFinish(sandbox: Sandbox, finished: ReadonlySet<string>, pageSize = 100): number {
  let calls = 1 + pages(sandbox.data.conversations.length, pageSize);
  for (const c of sandbox.data.conversations) {
    if (!finished.has(c.id)) calls += pages(c.messages.length, pageSize) + Math.min(20, c.messages.length);
  }
  return calls;
}

/** Every message row of a snapshot has its conversation's row in the same snapshot. */
export async function expectNoOrphanMessages(dir: string): Promise<void> {
  const conversations = new Set(
    (await readNdjson(join(dir, 'conversations.ndjson'))).map((r) => r['conversation_id']),
  );
  const orphans = (await readNdjson(join(dir, 'messages.ndjson'))).filter(
    (r) => !conversations.has(r['conversation_id']),
  );
  expect(orphans, `message rows without their conversation in ${dir}`).toEqual([]);
}
