import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import pLimit from 'p-limit';

const APPEND = constants.O_WRONLY | constants.O_APPEND | constants.O_NOFOLLOW;

/**
 * Creations and appends under way at once in this thread, whatever the number of files: hundreds of accounts that end together
 * flush their tables together, and each append holds a descriptor. Sixteen keep libuv's four I/O threads busy.
 */
export const APPENDS_AT_ONCE = 16;
const appending = pLimit(APPENDS_AT_ONCE);

/** fs errors of a write carry no path: add it, so the failure names the file (exit 8, not "unexpected"). */
function naming(e: unknown, path: string, syscall: string): unknown {
  if (e === null || typeof e !== 'object') return e;
  const err = e as NodeJS.ErrnoException;
  return Object.assign(err, { path: err.path ?? path, syscall: err.syscall ?? syscall });
}

/**
 * A file written by appending, open only while one append is under way. A table file held open for a whole run
 * costs one file descriptor per table per running account; a fleet of hundreds of accounts ran out of them. The file
 * is created empty and exclusively (an existing file, or a link, is refused: `O_EXCL` does not follow links); each
 * append opens it without following links, writes all of its bytes and closes it, at most `APPENDS_AT_ONCE` of them
 * at a time in a thread.
 */
export class AppendOnlyFile {
  private constructor(readonly path: string) {}

  static async create(path: string): Promise<AppendOnlyFile> {
    try {
      await appending(async () => (await open(path, 'wx')).close());
    } catch (e) {
      throw naming(e, path, 'open');
    }
    return new AppendOnlyFile(path);
  }

  append(data: Uint8Array): Promise<void> {
    return appending(() => this.appendNow(data));
  }

  private async appendNow(data: Uint8Array): Promise<void> {
    let handle;
    try {
      handle = await open(this.path, APPEND);
    } catch (e) {
      throw naming(e, this.path, 'open');
    }
    try {
      for (let offset = 0; offset < data.length;) {
        const { bytesWritten } = await handle.write(data, offset, data.length - offset);
        offset += bytesWritten;
      }
    } catch (e) {
      throw naming(e, this.path, 'write');
    } finally {
      await handle.close();
    }
  }
}
