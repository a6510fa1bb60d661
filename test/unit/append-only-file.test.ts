import { mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppendOnlyFile } from '../../src/writers/append-only-file.js';

/** The files this process holds open under `dir`. */
async function openUnder(dir: string): Promise<string[]> {
  const fds = await readdir('/proc/self/fd');
  const targets = await Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
  return targets.filter((t) => t.startsWith(dir));
}

describe('a file open only while appending', () => {
  it('is created empty, grows by each append, and is held open by none between appends', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ig-append-'));
    const file = await AppendOnlyFile.create(join(dir, 't.ndjson'));
    expect(await readFile(file.path, 'utf8')).toBe('');
    expect(await openUnder(dir)).toEqual([]);
    await file.append(Buffer.from('one\n'));
    expect(await openUnder(dir)).toEqual([]);
    await file.append(Buffer.alloc(3 << 20, 'x'));
    await file.append(Buffer.from('\nthree\n'));
    const text = await readFile(file.path, 'utf8');
    expect(text.length).toBe(4 + (3 << 20) + 7);
    expect(text.startsWith('one\nxxx')).toBe(true);
    expect(text.endsWith('x\nthree\n')).toBe(true);
    expect(await openUnder(dir)).toEqual([]);
  });

  it('refuses an existing file and a link, at creation and at an append, naming the path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ig-append-'));
    await writeFile(join(dir, 'victim'), 'keep');
    await expect(AppendOnlyFile.create(join(dir, 'victim'))).rejects.toMatchObject({
      code: 'EEXIST',
      path: join(dir, 'victim'),
    });
    await symlink(join(dir, 'victim'), join(dir, 'link'));
    await expect(AppendOnlyFile.create(join(dir, 'link'))).rejects.toMatchObject({ code: 'EEXIST' });
    // A link planted after creation is not followed by the next append.
    const file = await AppendOnlyFile.create(join(dir, 'planted'));
    await rm(file.path);
    await symlink(join(dir, 'victim'), file.path);
    await expect(file.append(Buffer.from('evil'))).rejects.toMatchObject({ code: 'ELOOP', path: file.path });
    expect(await readFile(join(dir, 'victim'), 'utf8')).toBe('keep');
  });
});
