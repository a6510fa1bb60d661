import { lstatSync, mkdirSync, statSync } from 'node:fs';
import { access, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/**
 * Creating the output and state directories, and saying clearly why it failed.
 *
 * Node's `mkdir(…, { recursive: true })` never returns on some special filesystems (on Linux it loops forever on
 * `/proc/…`, blocking the event loop so that even SIGINT is not handled). This creates one level at a time, from
 * the nearest existing ancestor down, so every failure is a single system call's answer.
 */

/**
 * A path the user chose cannot be used; the message names the path and the fix. `flag` is the option that chose it,
 * when that is not --output or --state-dir (`--record`), so the advice names the right one.
 */
export class OutputPathError extends Error {
  override name = 'OutputPathError';

  constructor(
    readonly path: string,
    readonly code: string,
    readonly action: string,
    readonly flag?: string,
  ) {
    super(`cannot ${action} ${path}: ${explain(code, path)}`);
  }
}

const EXPLANATIONS: Record<string, (path: string) => string> = {
  EACCES: (p) => `permission denied: give the user running ig-export write access to ${dirname(p)}`,
  EPERM: (p) => `operation not permitted: give the user running ig-export write access to ${dirname(p)}`,
  EROFS: () => 'the filesystem is read-only',
  ENOTDIR: () => 'a part of the path is a file, not a directory',
  EEXIST: () => 'a file with that name is in the way',
  ENOSPC: () => 'no space left on the device: free some space',
  EDQUOT: () => 'disk quota exceeded: free some space',
  ENOENT: () => 'this filesystem does not allow creating it (e.g. /proc)',
  ENAMETOOLONG: () => 'the path is too long',
  EIO: () => 'an input/output error: check the disk',
  ESYMLINK: () =>
    'it is a symbolic link, and ig-export never writes through links inside its folders: put a real folder or file ' +
    'there (--output and --state-dir themselves may be links)',
};

function explain(code: string, path: string): string {
  return `${code}, ${EXPLANATIONS[code]?.(path) ?? 'the operating system refused'}`;
}

/** A filesystem error of ours, or Node's with an errno code and a path, as an OutputPathError; else undefined. */
export function asOutputPathError(e: unknown): OutputPathError | undefined {
  if (e instanceof OutputPathError) return e;
  const err = e as NodeJS.ErrnoException | undefined;
  if (!(err instanceof Error) || typeof err.code !== 'string' || typeof err.path !== 'string')
    return undefined;
  const action =
    err.syscall === 'mkdir' ? 'create' : err.syscall === 'open' ? 'write' : (err.syscall ?? 'use');
  return new OutputPathError(err.path, err.code, action);
}

/** Whether something is at `path` (a missing file, or one that cannot be reached, is not). */
export const pathExists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  );

/**
 * Writes a whole new file (`wx`: never through an existing name, a planted link included). Node's write errors (a
 * full disk) carry no path: the error gets this one, so the failure names the file (exit 8, not "unexpected").
 */
export async function writeNewFile(path: string, content: string | Buffer): Promise<void> {
  try {
    await writeFile(path, content, { flag: 'wx' });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err instanceof Error && typeof err.code === 'string' && err.path === undefined)
      Object.assign(err, { path, syscall: err.syscall ?? 'write' });
    throw err;
  }
}

/**
 * Refuses a symbolic link at a name ig-export writes inside its folders (an account folder, a state database): a
 * link planted there would have ig-export write outside the folder it was given. No link, no error.
 */
export function refuseLink(path: string): void {
  let link: boolean;
  try {
    link = lstatSync(path).isSymbolicLink();
  } catch {
    return; // absent: it will be created as a real file or folder
  }
  if (link) throw new OutputPathError(path, 'ESYMLINK', 'write into');
}

/** Ensures `path` is a directory, creating missing levels one at a time; returns those it created, outermost first. */
export function ensureDirSync(path: string): string[] {
  const target = resolve(path);
  const missing: string[] = [];
  let current = target;
  for (;;) {
    let isDir: boolean;
    try {
      isDir = statSync(current).isDirectory();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw new OutputPathError(current, code ?? 'EIO', 'use');
      missing.push(current);
      const parent = dirname(current);
      if (parent === current) break;
      current = parent;
      continue;
    }
    if (!isDir) throw new OutputPathError(current, 'ENOTDIR', 'create');
    break;
  }
  const created: string[] = [];
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir);
      created.push(dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
      if (code === 'EEXIST' && statSync(dir).isDirectory()) continue; // created meanwhile by another process
      throw new OutputPathError(dir, code, 'create');
    }
  }
  return created;
}
