import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { digestFile } from '../writers/file-digest.js';
import { FORMATS, formatOfFile } from './formats.js';
import { MANIFEST_DIGEST_FILE, MANIFEST_FILE, tableFile } from './layout.js';
import {
  digestOf,
  ManifestError,
  parseManifest,
  recordedManifestDigest,
  type FileEntry,
  type Manifest,
} from './manifest.js';

export type ProblemKind =
  /** manifest.json is missing, unreadable, or not an ig-export manifest. */
  | 'manifest_invalid'
  /** manifest.sha256 is missing or malformed. */
  | 'manifest_digest_missing'
  /** manifest.json does not hash to what manifest.sha256 records. */
  | 'manifest_altered'
  | 'missing'
  /** Shorter than the manifest says (and so altered). */
  | 'truncated'
  | 'altered'
  /** A file the manifest does not list. */
  | 'extra'
  /** A table file cannot be read as NDJSON or Parquet. */
  | 'unreadable'
  /** A table's rows differ from the manifest's count (or a conversation's rows from its accounting). */
  | 'rows_mismatch'
  /** A media file whose content does not hash to its content-addressed name. */
  | 'media_altered'
  /** A symbolic link where the snapshot holds a file: its bytes live elsewhere and can change unseen. */
  | 'linked'
  /** The folder's name is not the snapshot (or account) its manifest names: copied or renamed. */
  | 'misplaced';

export interface VerifyProblem {
  kind: ProblemKind;
  file: string;
  detail: string;
}

export interface VerifyResult {
  dir: string;
  intact: boolean;
  /** Files whose size, hash and (tables) rows were checked. */
  filesChecked: number;
  problems: VerifyProblem[];
  manifest: Manifest | undefined;
}

/** Every file under a directory, as paths relative to it with `/` separators; `links` gets those that are links. */
async function filesUnder(dir: string, links: string[] = []): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() || entry.isSymbolicLink()) {
      const name = relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/');
      out.push(name);
      if (entry.isSymbolicLink()) links.push(name);
    }
  }
  return out.sort();
}

const isMedia = (name: string): boolean => name.startsWith('media/');

/**
 * Why a snapshot folder is not where its manifest says it belongs (a copy or a rename under another `snapshot=` or
 * `account=` name), or undefined. Compaction orders snapshots by folder name, so a renamed older snapshot would pass
 * for a newer one.
 */
function misplacement(dir: string, manifest: Manifest): string | undefined {
  const folder = basename(resolve(dir));
  const account = basename(dirname(resolve(dir)));
  // A copy handed over under another name (a case number) claims no id; a `snapshot=` name claims one.
  if (folder.startsWith('snapshot=') && folder !== `snapshot=${manifest.snapshot_id}`)
    return `the folder is ${folder}, but the manifest is snapshot ${manifest.snapshot_id} (a copied or renamed folder)`;
  if (account.startsWith('account=') && account !== `account=${manifest.account_id}`)
    return `the folder is under ${account}, but the manifest is account ${manifest.account_id}`;
  return undefined;
}

/**
 * What compaction checks before it reads a snapshot's `names`: each is present with the size and SHA-256 its manifest
 * records, and the folder is the snapshot its manifest names. The same checks as verifySnapshot, for those files only.
 */
export async function problemsBeforeReading(
  dir: string,
  manifest: Manifest,
  names: readonly string[],
): Promise<VerifyProblem[]> {
  const problems: VerifyProblem[] = [];
  const problem = (kind: ProblemKind, file: string, detail: string): void => {
    problems.push({ kind, file, detail });
  };
  const place = misplacement(dir, manifest);
  if (place !== undefined) problem('misplaced', MANIFEST_FILE, place);
  for (const name of names) {
    const entry = manifest.files[name];
    if (entry !== undefined) await checkFile(dir, name, entry, problem);
  }
  return problems;
}

/**
 * Checks a published snapshot against its manifest, as someone who did not run the export would: the manifest
 * against its detached digest, then every file it lists (present, size, SHA-256, rows of NDJSON and Parquet
 * tables, media content against its content address), the per-conversation accounting against the rows, and no
 * file the manifest does not list. Reports every problem found; never modifies anything.
 */
export async function verifySnapshot(dir: string): Promise<VerifyResult> {
  const problems: VerifyProblem[] = [];
  const problem = (kind: ProblemKind, file: string, detail: string): void => {
    problems.push({ kind, file, detail });
  };
  const done = (manifest: Manifest | undefined, filesChecked: number): VerifyResult => ({
    dir,
    intact: problems.length === 0,
    filesChecked,
    problems,
    manifest,
  });

  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST_FILE), 'utf8');
  } catch (e) {
    problem('manifest_invalid', MANIFEST_FILE, `cannot be read (${(e as NodeJS.ErrnoException).code})`);
    return done(undefined, 0);
  }
  const recorded = await recordedManifestDigest(dir);
  if (recorded === undefined)
    problem('manifest_digest_missing', MANIFEST_DIGEST_FILE, 'missing or not "<sha256>  manifest.json"');
  else if (recorded !== digestOf(text))
    problem('manifest_altered', MANIFEST_FILE, `its SHA-256 is not the one ${MANIFEST_DIGEST_FILE} records`);
  let manifest: Manifest;
  try {
    manifest = parseManifest(text, MANIFEST_FILE);
  } catch (e) {
    if (!(e instanceof ManifestError)) throw e;
    problem('manifest_invalid', MANIFEST_FILE, e.message);
    return done(undefined, 0);
  }

  const place = misplacement(dir, manifest);
  if (place !== undefined) problem('misplaced', MANIFEST_FILE, place);

  let checked = 0;
  const tableRows = new Map<string, number>();
  let messagesByConversation: Map<string, number> | undefined;
  for (const [name, entry] of Object.entries(manifest.files)) {
    if (await checkFile(dir, name, entry, problem)) {
      checked++;
      const rows = await countRows(dir, name, problem);
      if (rows !== undefined) {
        tableRows.set(name, rows.rows);
        if (rows.byConversation && name.startsWith('messages.')) messagesByConversation = rows.byConversation;
        if (entry.rows !== undefined && rows.rows !== entry.rows)
          problem('rows_mismatch', name, `${rows.rows} rows, the manifest says ${entry.rows}`);
      }
    }
  }

  for (const [table, expected] of [
    ['messages', manifest.counts.messages],
    ['conversations', manifest.counts.conversations],
  ] as const) {
    for (const { name: format } of FORMATS) {
      const rows = tableRows.get(tableFile(table, format));
      if (rows !== undefined && rows !== expected)
        problem(
          'rows_mismatch',
          tableFile(table, format),
          `${rows} rows, the manifest counts ${expected} ${table}`,
        );
    }
  }
  if (messagesByConversation !== undefined) {
    for (const c of manifest.conversations) {
      const rows = messagesByConversation.get(c.conversation_id) ?? 0;
      if (rows !== c.rows)
        problem(
          'rows_mismatch',
          tableFile('messages', 'ndjson'),
          `conversation ${c.conversation_id} has ${rows} message rows, the manifest accounts for ${c.rows}`,
        );
    }
  }

  const listed = new Set([...Object.keys(manifest.files), MANIFEST_FILE, MANIFEST_DIGEST_FILE]);
  const links: string[] = [];
  for (const name of await filesUnder(dir, links)) {
    if (!listed.has(name)) problem('extra', name, 'not listed in the manifest');
  }
  for (const name of links)
    problem('linked', name, 'a symbolic link, not a file: ig-export never writes links');
  return done(manifest, checked);
}

/** What a current view's manifest says (written by `compact`): its files' rows, sizes and hashes. */
interface ViewManifest {
  files: Record<string, FileEntry>;
}

/**
 * Checks a current view (`current/account=<id>/`) against the manifest `compact` wrote for it, as a snapshot is
 * checked: every listed file present, of the size and SHA-256 recorded, with the rows recorded, and no link.
 */
export async function verifyCurrentView(dir: string): Promise<VerifyResult> {
  const problems: VerifyProblem[] = [];
  const problem = (kind: ProblemKind, file: string, detail: string): void => {
    problems.push({ kind, file, detail });
  };
  let manifest: ViewManifest;
  try {
    manifest = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')) as ViewManifest;
    if (typeof manifest.files !== 'object' || manifest.files === null) throw new Error('no files');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    problem(
      'manifest_invalid',
      MANIFEST_FILE,
      code ? `cannot be read (${code})` : 'not a current-view manifest',
    );
    return { dir, intact: false, filesChecked: 0, problems, manifest: undefined };
  }
  let checked = 0;
  for (const [name, entry] of Object.entries(manifest.files)) {
    checked++;
    if (!(await checkFile(dir, name, entry, problem))) continue;
    const counted = await countRows(dir, name, problem);
    if (counted && counted.rows !== entry.rows)
      problem('rows_mismatch', name, `${counted.rows} rows, the manifest says ${entry.rows}`);
  }
  const links: string[] = [];
  await filesUnder(dir, links);
  for (const name of links)
    problem('linked', name, 'a symbolic link, not a file: ig-export never writes links');
  return { dir, intact: problems.length === 0, filesChecked: checked, problems, manifest: undefined };
}

/** Presence, size and hash of one listed file; true when it is intact. */
async function checkFile(
  dir: string,
  name: string,
  entry: FileEntry,
  problem: (kind: ProblemKind, file: string, detail: string) => void,
): Promise<boolean> {
  const path = join(dir, ...name.split('/'));
  const info = await stat(path).catch(() => undefined);
  if (info === undefined || !info.isFile()) {
    problem('missing', name, 'listed in the manifest but not present');
    return false;
  }
  const actual = await digestFile(path);
  if (isMedia(name) && `media/${actual.sha256}` !== name)
    problem('media_altered', name, `its content hashes to ${actual.sha256}`);
  if (actual.bytes < entry.bytes) {
    problem('truncated', name, `${actual.bytes} bytes, the manifest says ${entry.bytes}`);
    return false;
  }
  if (actual.bytes !== entry.bytes || actual.sha256 !== entry.sha256) {
    problem(
      'altered',
      name,
      actual.bytes !== entry.bytes
        ? `${actual.bytes} bytes, the manifest says ${entry.bytes}`
        : 'same size, different SHA-256',
    );
    return false;
  }
  return true;
}

/** Rows of a table file (NDJSON lines, Parquet's footer); undefined for other files or when unreadable. */
async function countRows(
  dir: string,
  name: string,
  problem: (kind: ProblemKind, file: string, detail: string) => void,
): Promise<{ rows: number; byConversation?: Map<string, number> } | undefined> {
  const path = join(dir, name);
  try {
    const format = formatOfFile(name);
    if (format) return await format.count(path);
  } catch (e) {
    problem('unreadable', name, (e as Error).message);
  }
  return undefined;
}
