import { mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APPENDS_AT_ONCE, AppendOnlyFile } from '../../src/writers/append-only-file.js';

/** The files this process holds open under `dir`. */
async function openUnder(dir: string): Promise<string[]> {
  const fds = await readdir('/proc/self/fd');
  const targets = await Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
  return targets.filter((t) => t.startsWith(dir));
}

describe('a file open only while appending', () => {
  it('is created empty, grows by each append, keeps its descriptor between appends and closes it when done', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ig-append-'));
    const file = await AppendOnlyFile.create(join(dir, 't.ndjson'));
    expect(await readFile(file.path, 'utf8')).toBe('');
    expect(await openUnder(dir)).toEqual([]);
    await file.append(Buffer.from('one\n'));
    expect(await openUnder(dir)).toEqual([file.path]);
    await file.append(Buffer.alloc(3 << 20, 'x'));
    await file.append(Buffer.from('\nthree\n'));
    expect(await openUnder(dir)).toEqual([file.path]);
    await file.done();
    expect(await openUnder(dir)).toEqual([]);
    const text = await readFile(file.path, 'utf8');
    expect(text.length).toBe(4 + (3 << 20) + 7);
    expect(text.startsWith('one\nxxx')).toBe(true);
    expect(text.endsWith('x\nthree\n')).toBe(true);
  });

  it(`holds at most ${APPENDS_AT_ONCE} files open however many are written at once, and every byte lands`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ig-append-'));
    const files = await Promise.all(
      Array.from({ length: 3 * APPENDS_AT_ONCE }, (_, i) => AppendOnlyFile.create(join(dir, `f${i}`))),
    );
    let most = 0;
    const sampling = (async () => {
      for (let round = 0; round < 40; round++) most = Math.max(most, (await openUnder(dir)).length);
    })();
    await Promise.all(
      files.map(async (f, i) => {
        for (let chunk = 0; chunk < 20; chunk++) await f.append(Buffer.from(`${i}:${chunk}\n`));
      }),
    );
    await sampling;
    most = Math.max(most, (await openUnder(dir)).length);
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(APPENDS_AT_ONCE);
    await Promise.all(files.map((f) => f.done()));
    expect(await openUnder(dir)).toEqual([]);
    for (const [i, f] of files.entries())
      expect(await readFile(f.path, 'utf8')).toBe(
        Array.from({ length: 20 }, (_, c) => `${i}:${c}\n`).join(''),
      );
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
