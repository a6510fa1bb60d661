import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { z } from 'zod';

/**
 * Instagram's "Download your information" archive (format JSON), as Meta writes it: a zip, or the folder it unpacks
 * to. Threads are folders `…/messages/<box>/<slug>_<digits>/` (box: inbox, message_requests, …; newer archives put
 * them under `your_instagram_activity/`), each with `message_1.json`, `message_2.json`, … (newest first, split when a
 * thread is long). Every string is written in Meta's broken encoding (each UTF-8 byte as its own `\u00XX`), repaired
 * here. A zip is read entry by entry from its central directory: nothing is extracted to disk, and one thread at a
 * time is in memory. What is known of the format and what is guessed: dyi-archive-facts.md beside this file.
 */

/** One message of an archive thread, its strings repaired. */
export interface ArchiveMessage {
  senderName: string | null;
  timestampMs: number;
  /** The text, or null when the message has none (media, shares, calls). */
  content: string | null;
  /** Media as paths inside the archive (`uri`), with their kind. */
  media: Array<{ kind: 'image' | 'video' | 'audio' | 'file'; uri: string }>;
  shareLink: string | null;
  reactions: Array<{ reaction: string; actor: string }>;
  /** The message object as the archive holds it (repaired). */
  raw: Record<string, unknown>;
}

export interface ArchiveThread {
  /** `<box>/<folder>`, unique in the archive (e.g. `inbox/anasilva_1234567890`). */
  key: string;
  title: string | null;
  participants: string[];
  /** Newest first. */
  messages: ArchiveMessage[];
}

/** A file of the archive that could not be read; the rest of the archive is read all the same. */
export interface ArchiveProblem {
  path: string;
  reason: string;
}

const THREAD_FILE = /(?:^|\/)messages\/([^/]+)\/([^/]+)\/message_(\d+)\.json$/;
/** A thread file of the archive's other format, HTML (the download form offers both). */
const HTML_THREAD_FILE = /(?:^|\/)messages\/[^/]+\/[^/]+\/message_\d+\.html$/;

/** The zip or folder holds no thread file of the JSON format: there is nothing to import from it. */
export class ArchiveWithoutThreadsError extends Error {
  override name = 'ArchiveWithoutThreadsError';
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Meta's archive writes each UTF-8 byte of a string as one code point (`✨` arrives as `\u00e2\u009c\u00a8`): the code
 * points are the bytes. A string with a code point above U+00FF, or whose bytes are not UTF-8, was not written that
 * way and is kept as it is.
 */
export function repairText(s: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/[\u0080-\u00ff]/.test(s) || /[^\u0000-\u00ff]/.test(s)) return s;
  try {
    return decoder.decode(Buffer.from(s, 'latin1'));
  } catch {
    return s;
  }
}

/** Repairs every string value as JSON.parse meets it (no second copy of the file's objects; keys are ASCII). */
const repairing = (_key: string, v: unknown): unknown => (typeof v === 'string' ? repairText(v) : v);

const mediaList = z.array(z.object({ uri: z.string() }).passthrough()).optional();
const messageSchema = z
  .object({
    sender_name: z.string().optional(),
    timestamp_ms: z.number().int().nonnegative(),
    content: z.string().optional(),
    photos: mediaList,
    videos: mediaList,
    audio_files: mediaList,
    files: mediaList,
    share: z.object({ link: z.string().optional() }).passthrough().optional(),
    reactions: z.array(z.object({ reaction: z.string(), actor: z.string() }).passthrough()).optional(),
  })
  .passthrough();
const threadFileSchema = z
  .object({
    participants: z.array(z.object({ name: z.string() }).passthrough()).default([]),
    messages: z.array(z.unknown()),
    title: z.string().optional(),
  })
  .passthrough();

function toMessage(m: z.infer<typeof messageSchema>): ArchiveMessage {
  const media: ArchiveMessage['media'] = [
    ...(m.photos ?? []).map((p) => ({ kind: 'image' as const, uri: p.uri })),
    ...(m.videos ?? []).map((p) => ({ kind: 'video' as const, uri: p.uri })),
    ...(m.audio_files ?? []).map((p) => ({ kind: 'audio' as const, uri: p.uri })),
    ...(m.files ?? []).map((p) => ({ kind: 'file' as const, uri: p.uri })),
  ];
  return {
    senderName: m.sender_name ?? null,
    timestampMs: m.timestamp_ms,
    content: m.content ?? null,
    media,
    shareLink: m.share?.link ?? null,
    reactions: (m.reactions ?? []).map((r) => ({ reaction: r.reaction, actor: r.actor })),
    raw: m,
  };
}

/** One thread file's participants, title and messages; malformed messages are reported and skipped. */
function parseThreadFile(
  text: string,
  path: string,
  report: (problem: ArchiveProblem) => void,
): { participants: string[]; title: string | null; messages: ArchiveMessage[] } | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text, repairing);
  } catch (e) {
    report({ path, reason: `not JSON: ${(e as Error).message}` });
    return undefined;
  }
  const file = threadFileSchema.safeParse(json);
  if (!file.success) {
    report({ path, reason: `not a message file: ${file.error.issues[0]?.message ?? 'invalid'}` });
    return undefined;
  }
  const messages: ArchiveMessage[] = [];
  file.data.messages.forEach((m, i) => {
    const parsed = messageSchema.safeParse(m);
    if (parsed.success) messages.push(toMessage(parsed.data));
    else report({ path: `${path}#messages[${i}]`, reason: parsed.error.issues[0]?.message ?? 'invalid' });
  });
  return {
    participants: file.data.participants.map((p) => p.name),
    title: file.data.title ?? null,
    messages,
  };
}

/** Where an archive's files come from: a zip (read entry by entry) or an unpacked folder. */
interface ArchiveSource {
  /** Paths of thread files inside the archive, `/`-separated. */
  paths: string[];
  /** How many thread files of the HTML format it holds. */
  htmlThreadFiles: number;
  read(path: string): Promise<Buffer>;
  close(): void;
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function openZip(file: string): Promise<ArchiveSource> {
  const zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: false });
  const entries = new Map<string, yauzl.Entry>();
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (e: yauzl.Entry) => {
      if (!e.fileName.endsWith('/')) entries.set(e.fileName, e);
      zip.readEntry();
    });
    zip.on('end', () => resolve());
    zip.on('error', reject);
    zip.readEntry();
  });
  const names = [...entries.keys()];
  return {
    paths: names.filter((p) => THREAD_FILE.test(p)),
    htmlThreadFiles: names.filter((p) => HTML_THREAD_FILE.test(p)).length,
    read: async (path) => {
      const entry = entries.get(path);
      if (!entry) throw Object.assign(new Error(`${path} is not in the archive`), { code: 'ENOENT' });
      return collect(await zip.openReadStreamPromise(entry));
    },
    close: () => zip.close(),
  };
}

/**
 * How deep below the given folder a `messages` folder is looked for: `your_instagram_activity/messages` sits at the
 * second level, or the third when the folder given holds the unpacked one.
 */
const MESSAGES_FOLDER_DEPTH = 4;

/**
 * The sub-folders of `dir/rel` as paths relative to `dir` (`/`-separated); none when one below `dir` cannot be read
 * (`dir` itself must be readable: its error is the one to report).
 */
async function subfolders(dir: string, rel: string): Promise<string[]> {
  const entries = await readdir(join(dir, rel), { withFileTypes: true }).catch((e: unknown) => {
    if (rel === '') throw e;
    return [];
  });
  return entries.filter((e) => e.isDirectory()).map((e) => (rel === '' ? e.name : `${rel}/${e.name}`));
}

/** The files of every thread folder of a `messages` folder (`<box>/<thread>/…`), relative to `dir`. */
async function messagesFiles(dir: string, messages: string): Promise<string[]> {
  const threads = (
    await Promise.all((await subfolders(dir, messages)).map((box) => subfolders(dir, box)))
  ).flat();
  const files = await Promise.all(
    threads.map(async (t) => (await readdir(join(dir, t)).catch(() => [])).map((f) => `${t}/${f}`)),
  );
  return files.flat();
}

/**
 * The thread files of an unpacked archive (`…/messages/<box>/<thread>/message_<n>.json` or `.html`), as paths
 * relative to `dir`. Only the places where Meta puts them are listed, never the whole tree: a wrong folder given
 * (a home folder, `/`, `/proc`) is answered at once with "no threads", instead of after listing every file below it.
 */
async function threadFileNames(dir: string): Promise<string[]> {
  const names: string[] = [];
  let level = [''];
  for (let depth = 0; depth < MESSAGES_FOLDER_DEPTH && level.length > 0; depth++) {
    const found = (await Promise.all(level.map((rel) => subfolders(dir, rel)))).flat();
    for (const messages of found.filter((f) => basename(f) === 'messages'))
      names.push(...(await messagesFiles(dir, messages)));
    level = found.filter((f) => basename(f) !== 'messages');
  }
  return names;
}

async function openFolder(dir: string): Promise<ArchiveSource> {
  const names = await threadFileNames(dir);
  return {
    paths: names.filter((n) => THREAD_FILE.test(n)),
    htmlThreadFiles: names.filter((n) => HTML_THREAD_FILE.test(n)).length,
    // A media uri is a path inside the archive: never let one reach outside the folder.
    read: (path) =>
      path.split('/').includes('..')
        ? Promise.reject(Object.assign(new Error(`${path} leaves the archive`), { code: 'ENOENT' }))
        : readFile(join(dir, path)),
    close: () => undefined,
  };
}

/** The archive's identity for custody and idempotence: a zip's bytes; a folder's thread files, path and content. */
export async function archiveDigest(
  source: string,
): Promise<{ fileName: string; bytes: number; sha256: string }> {
  const info = await stat(source);
  const hash = createHash('sha256');
  let bytes = 0;
  if (info.isDirectory()) {
    const folder = await openFolder(source);
    for (const path of folder.paths.sort()) {
      const content = await folder.read(path);
      bytes += content.length;
      hash.update(`${path}\n${createHash('sha256').update(content).digest('hex')}\n`);
    }
  } else {
    for await (const chunk of createReadStream(source)) hash.update(chunk as Buffer);
    bytes = info.size;
  }
  return { fileName: basename(source), bytes, sha256: hash.digest('hex') };
}

/** An open archive: its thread keys, and each thread read on demand (one at a time in memory). */
export interface DyiArchive {
  threadKeys: string[];
  readThread(key: string): Promise<ArchiveThread>;
  /** A file of the archive by its path inside it (a media `uri`); rejects with code ENOENT when it has none. */
  readFile(path: string): Promise<Buffer>;
  /** Each file (or message) that could not be read, once however often its thread is read. */
  problems: ArchiveProblem[];
  close(): void;
}

/** Why nothing can be imported from an archive without JSON thread files, and what to pass instead. */
function withoutThreads(source: string, htmlThreadFiles: number): string {
  if (htmlThreadFiles > 0)
    return (
      `${source} is Instagram's archive in HTML format (${htmlThreadFiles} message_<n>.html files): import-dyi reads ` +
      'the JSON format; download your information again with Format: JSON'
    );
  return (
    `${source} holds no message threads (files messages/<box>/<thread>/message_<n>.json): pass the .zip Instagram ` +
    'gave, or the folder it unpacks to, downloaded with Messages and Format: JSON; of a download split into several ' +
    'zips, pass each that holds them'
  );
}

/**
 * Opens a zip or folder. Thread files are grouped by thread folder; split files are read in order and merged.
 * `problems` collects files (and messages) that could not be read: they are skipped, never fatal. An archive without
 * any thread file of the JSON format is refused (`ArchiveWithoutThreadsError`): an empty or wrong folder, or the HTML
 * format, would otherwise import as nothing and look done.
 */
export async function openDyiArchive(source: string): Promise<DyiArchive> {
  const isDir = (await stat(source)).isDirectory();
  const files = isDir ? await openFolder(source) : await openZip(source);
  if (files.paths.length === 0) {
    files.close();
    throw new ArchiveWithoutThreadsError(withoutThreads(source, files.htmlThreadFiles));
  }
  const byThread = new Map<string, Array<{ path: string; n: number }>>();
  for (const path of files.paths) {
    const [, box, folder, n] = THREAD_FILE.exec(path)!;
    const key = `${box}/${folder}`;
    const list = byThread.get(key) ?? [];
    list.push({ path, n: Number(n) });
    byThread.set(key, list);
  }
  const problems: ArchiveProblem[] = [];
  const reported = new Set<string>();
  const report = (p: ArchiveProblem): void => {
    if (reported.has(p.path)) return;
    reported.add(p.path);
    problems.push(p);
  };
  return {
    threadKeys: [...byThread.keys()].sort(),
    problems,
    close: () => files.close(),
    readFile: (path) => files.read(path),
    async readThread(key) {
      const parts = [...(byThread.get(key) ?? [])].sort((a, b) => a.n - b.n);
      const thread: ArchiveThread = { key, title: null, participants: [], messages: [] };
      for (const part of parts) {
        const parsed = parseThreadFile((await files.read(part.path)).toString('utf8'), part.path, report);
        if (!parsed) continue;
        thread.title ??= parsed.title;
        for (const p of parsed.participants)
          if (!thread.participants.includes(p)) thread.participants.push(p);
        thread.messages.push(...parsed.messages);
      }
      // Newest first, as the files hold them; a stable sort keeps the archive's order within one millisecond.
      thread.messages.sort((a, b) => b.timestampMs - a.timestampMs);
      return thread;
    },
  };
}
