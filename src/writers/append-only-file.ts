import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import pLimit from 'p-limit';

const APPEND = constants.O_WRONLY | constants.O_APPEND | constants.O_NOFOLLOW;

/**
 * Table files open at once in this thread, whatever the number of files being written: hundreds of accounts each
 * writing their tables would otherwise hold a descriptor per table. Sixteen keep libuv's four I/O threads busy.
 */
export const APPENDS_AT_ONCE = 16;
const appending = pLimit(APPENDS_AT_ONCE);

/**
 * Handles kept open after their append, least recently used first: a file appended to again and again (one large
 * export) is not opened and closed for every chunk, which cost a third of the NDJSON writer's time. A kept handle is
 * closed when another file needs its place, or when its file is done.
 */
const kept = new Map<AppendOnlyFile, FileHandle>();
/** Handles taken by an append under way (at most APPENDS_AT_ONCE; with `kept`, never more than that in all). */
let inUse = 0;

/** fs errors of a write carry no path: add it, so the failure names the file (exit 8, not "unexpected"). */
function naming(e: unknown, path: string, syscall: string): unknown {
  if (e === null || typeof e !== 'object') return e;
  const err = e as NodeJS.ErrnoException;
  return Object.assign(err, { path: err.path ?? path, syscall: err.syscall ?? syscall });
}

/** Closes the least recently used kept handles until those kept and those in use fit within APPENDS_AT_ONCE. */
async function makeRoom(): Promise<void> {
  while (kept.size > 0 && kept.size + inUse > APPENDS_AT_ONCE) {
    const [file, handle] = kept.entries().next().value as [AppendOnlyFile, FileHandle];
    kept.delete(file);
    await handle.close().catch(() => undefined); // written and synced by the kernel already; nothing to lose
  }
}

/**
 * A file written by appending, whose descriptor is held only while it is being appended to, or kept while no other
 * file needs one: a table file held open for a whole run cost one descriptor per table per running account, and a
 * fleet of hundreds of accounts ran out of them. At most `APPENDS_AT_ONCE` table files are open at once in a thread.
 * The file is created empty and exclusively (an existing file, or a link, is refused: `O_EXCL` does not follow
 * links); it is opened again without following links. `done` closes it for good.
 */
export class AppendOnlyFile {
  private constructor(readonly path: string) {}

  static async create(path: string): Promise<AppendOnlyFile> {
    try {
      await appending(async () => {
        inUse++;
        try {
          await makeRoom();
          await (await open(path, 'wx')).close();
        } finally {
          inUse--;
        }
      });
    } catch (e) {
      throw naming(e, path, 'open');
    }
    return new AppendOnlyFile(path);
  }

  append(data: Uint8Array): Promise<void> {
    return appending(() => this.appendNow(data));
  }

  /** Closes the file's kept descriptor, if any: nothing more will be appended. */
  async done(): Promise<void> {
    const handle = kept.get(this);
    kept.delete(this);
    await handle?.close();
  }

  private async appendNow(data: Uint8Array): Promise<void> {
    inUse++;
    let handle = kept.get(this);
    kept.delete(this);
    try {
      if (!handle) {
        await makeRoom();
        handle = await open(this.path, APPEND);
      }
    } catch (e) {
      inUse--;
      throw naming(e, this.path, 'open');
    }
    try {
      for (let offset = 0; offset < data.length;) {
        const { bytesWritten } = await handle.write(data, offset, data.length - offset);
        offset += bytesWritten;
      }
    } catch (e) {
      await handle.close().catch(() => undefined);
      throw naming(e, this.path, 'write');
    } finally {
      inUse--;
    }
    kept.set(this, handle);
  }
}
