import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { writeNewFile } from '../output-path.js';
import { join } from 'node:path';
import { z } from 'zod';
import { HYDRATION_STATUSES, type HydrationStatus } from '../schema/tables.js';
import { MANIFEST_DIGEST_FILE, MANIFEST_FILE } from './layout.js';

/**
 * The manifest of a snapshot, as a validated schema: what the export writes, and what crash recovery, compact,
 * prune and `verify` read back. A manifest that does not match is an error, never read on trust.
 */
const count = z.number().int().nonnegative();
const isoTime = z.iso.datetime({ offset: true });

export const fileEntrySchema = z.object({
  /** Rows of a table file; absent for media files. */
  rows: count.optional(),
  bytes: count,
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type FileEntry = z.infer<typeof fileEntrySchema>;

/** Message rows by hydration status (every one of HYDRATION_STATUSES: checked by the type below). */
const byStatus = {
  hydrated: count,
  /** Filled from a captured webhook (absent from manifests written before `listen` existed). */
  captured: count.default(0),
  /** Filled from a "Download your information" archive (`import-dyi`; absent from manifests written before). */
  imported: count.default(0),
  /** Archive messages that match no listed message (`import-dyi`; absent from manifests written before). */
  archive_only: count.default(0),
  outside_window: count,
  unavailable: count,
  failed: count,
} satisfies Record<HydrationStatus, unknown>;

export const countsSchema = z.object({ conversations: count, messages: count, lost: count, ...byStatus });
export type Counts = z.infer<typeof countsSchema>;

/** Zero of every status, from the one list of statuses. */
export function zeroByStatus(): Record<HydrationStatus, number> {
  return Object.fromEntries(HYDRATION_STATUSES.map((s) => [s, 0])) as Record<HydrationStatus, number>;
}

export const emptyCounts = (): Counts => ({ conversations: 0, messages: 0, lost: 0, ...zeroByStatus() });

/** What one snapshot holds of one conversation, by hydration status (the message ids are in the data files). */
export const conversationAccountSchema = z.object({
  conversation_id: z.string(),
  /** Message ids this snapshot's run listed for the conversation (rows + outside_time_window). */
  listed: count,
  /** Message rows written for the conversation (all of them in a full export, the new ones in an incremental). */
  rows: count,
  ...byStatus,
  /** Listed messages the run's time window (--since/--until) left out. */
  outside_time_window: count,
  /** Who the conversation is with (hashed with --redact, as in the rows); absent in manifests written before. */
  participant_id: z.string().nullable().optional(),
  participant_username: z.string().nullable().optional(),
});
export type ConversationAccount = z.infer<typeof conversationAccountSchema>;

/** Who ran the export, how, and with what: for someone who has to defend it later. */
export const custodySchema = z.object({
  os_user: z.string(),
  host: z.string(),
  /** The command line, with every secret removed (the token never appears on it anyway). */
  command_line: z.array(z.string()),
  node_version: z.string(),
  /** SHA-256 of the package-lock.json ig-export was installed from, when it has one. */
  lockfile_sha256: z.string().nullable(),
});
export type Custody = z.infer<typeof custodySchema>;

export const filtersSchema = z.object({
  user_id: z.string().nullable(),
  /** The time window, inclusive start and exclusive end (ISO 8601 UTC); null = unbounded. */
  since: isoTime.nullable(),
  until: isoTime.nullable(),
});

const stopReasonSchema = z.enum(['cancelled', 'auth', 'extract_failed', 'checkpoint']);
/**
 * Why a snapshot is partial: the run was stopped (`cancelled`, `auth`, `extract_failed`), or the snapshot is a
 * checkpoint of a run that had not finished yet (`checkpoint`: later snapshots of the same run hold the rest).
 */
export type StopReason = z.infer<typeof stopReasonSchema>;

const failureSchema = z.object({
  stage: z.enum(['extract', 'expand', 'hydrate']),
  conversation_id: z.string().optional(),
  message_id: z.string().optional(),
  kind: z.string(),
  reason: z.string(),
  message: z.string(),
});

const lossSchema = z.object({
  lost: count,
  worst: z.array(z.object({ conversation_id: z.string(), lost: count, new_messages: count })),
  recommended_interval_minutes: z.number().nullable(),
  busiest: z.array(z.object({ conversation_id: z.string(), new_messages: count, per_hour: z.number() })),
});

export const manifestSchema = z.object({
  manifest_version: z.literal(2),
  /** complete: everything this snapshot holds was read in full; partial: see stop_reason and failures. */
  status: z.enum(['complete', 'partial']),
  stop_reason: stopReasonSchema.nullable(),
  /** Unique per run; the checkpoints of one run share it. */
  run_id: z.string(),
  snapshot_id: z.string(),
  /** A long run publishes a snapshot at each checkpoint; `final` marks the run's last. */
  checkpoint: z.object({ index: count, final: z.boolean() }),
  /** full: every message of every listed conversation; incremental: changed conversations, new messages only. */
  mode: z.enum(['full', 'incremental', 'import']),
  /** Set when this run continues a full export an earlier run left unfinished. */
  resumed_from_run_id: z.string().nullable(),
  /** Conversations listed while this snapshot was open that needed no call: archived and unchanged. */
  skipped_conversations: count,
  account_id: z.string(),
  account_username: z.string().nullable(),
  run_started_at: isoTime,
  started_at: isoTime,
  ended_at: isoTime,
  tool: z.object({ name: z.literal('ig-export'), version: z.string() }),
  api: z.object({ base_url: z.string(), version: z.string() }),
  custody: custodySchema,
  filters: filtersSchema,
  /** --redact: how user ids and usernames were hashed (the key itself is never recorded) and what was dropped. */
  redaction: z
    .object({
      method: z.literal('HMAC-SHA-256'),
      key_id: z.string(),
      hashed: z.array(z.string()),
      dropped: z.array(z.string()),
    })
    .nullable(),
  /** Calls the time window saved: listing stopped early, details not read of messages outside the window. */
  window_savings: z
    .object({
      /** Listings (of conversations, or of one conversation's messages) that stopped before their last page. */
      listing_stopped_early: count,
      /** Messages in the 20-message window whose details were not read: they lie outside the time window. */
      detail_reads_skipped: count,
    })
    .nullable(),
  options: z.record(z.string(), z.unknown()),
  /** Every file of the snapshot but the manifest and its digest: size, SHA-256 and (tables) row count. */
  files: z.record(z.string(), fileEntrySchema),
  counts: countsSchema,
  /** --download-media: downloads by how they ended, and the distinct files stored (null without it). */
  media: z
    .object({
      downloaded: count,
      expired: count,
      too_large: count,
      failed: count,
      files: count,
      bytes: count,
    })
    .nullable(),
  conversations: z.array(conversationAccountSchema),
  calls: z.object({ total: count, by_endpoint: z.record(z.string(), count) }),
  retries: z.object({
    by_kind: z.record(z.string(), count),
    failed_calls_by_reason: z.record(z.string(), count),
  }),
  throttles: z.object({ count, wait_ms: z.number().nonnegative() }),
  window_loss: lossSchema,
  /** How message details were read: `expand` (field expansion) or `per-message`, and why `auto` fell back. */
  hydration: z
    .object({
      strategy: z.enum(['expand', 'per-message']),
      fallback: z.object({ reason: z.string() }).nullable(),
      /** How message lists continued past a page (written since paging links of either form are followed). */
      paging: z
        .object({
          continuation: z.enum(['links', 'cursors']),
          fallback: z.object({ reason: z.string() }).nullable(),
        })
        .optional(),
    })
    .nullable(),
  failures_total: count,
  failures: z.array(failureSchema),
  /** mode `import`: the archive the rows came from, and what matching made of it. */
  archive: z
    .object({
      file_name: z.string(),
      bytes: count,
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
      threads: z.object({ matched: count, unmatched: count }),
      messages: z.object({ total: count, matched: count, ambiguous: count, unmatched: count }),
      malformed_files: z.array(z.object({ path: z.string(), reason: z.string() })),
      /**
       * The archive's threads (`<box>/<folder>`) this import matched to a conversation. An earlier import that matched
       * one of them to none kept its messages under `dyi:<box>/<folder>`; the current view drops those older rows.
       * Absent from manifests written before.
       */
      matched_threads: z.array(z.string()).default([]),
    })
    .optional(),
});
export type Manifest = z.infer<typeof manifestSchema>;

/** A manifest that is missing, not JSON, or not what ig-export writes. */
export class ManifestError extends Error {
  override name = 'ManifestError';
}

/** The manifest's bytes as written, so that its digest can be checked byte for byte. */
export function manifestText(manifest: Manifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** Writes `manifest.json` and its detached digest `manifest.sha256` (never over existing files). */
export async function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  const text = manifestText(manifest);
  await writeNewFile(join(dir, MANIFEST_FILE), text);
  await writeNewFile(join(dir, MANIFEST_DIGEST_FILE), `${digestOf(text)}  ${MANIFEST_FILE}\n`);
}

export function parseManifest(text: string, where: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ManifestError(`${where} is not valid JSON`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new ManifestError(
      `${where} is not an ig-export manifest: ${first ? `${first.path.join('.') || '(root)'}: ${first.message}` : 'invalid'}`,
    );
  }
  return parsed.data;
}

/** Reads and validates a snapshot's manifest. */
export async function readManifest(dir: string): Promise<Manifest> {
  const path = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ManifestError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return parseManifest(text, path);
}

/** The digest `manifest.sha256` records, or undefined when the file is missing or malformed. */
export async function recordedManifestDigest(dir: string): Promise<string | undefined> {
  const text = await readFile(join(dir, MANIFEST_DIGEST_FILE), 'utf8').catch(() => undefined);
  const m = text === undefined ? null : /^([0-9a-f]{64}) {2}manifest\.json\n?$/.exec(text);
  return m?.[1];
}

export function digestOf(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}
