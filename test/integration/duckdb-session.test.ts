import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDuckDb } from '../../src/snapshots/duckdb-session.js';
import { tempDir } from '../helpers/export-options.js';

/** A pid no process has: a child that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

describe('DuckDB sessions over an output (compact, import-dyi)', () => {
  it('spill inside the output, never into the working directory, and leave nothing behind', async () => {
    const out = await tempDir();
    const current = join(out, 'current');
    await mkdir(current);
    const dead = `.duckdb-spill-${await deadPid()}-1`;
    const alive = `.duckdb-spill-${process.pid}-other`;
    await Promise.all([mkdir(join(current, dead)), mkdir(join(current, alive))]);

    const session = await openDuckDb(out, 'test', { memoryLimitMb: 64, threads: 1, task: 'testing' });
    const spill = join(current, `.duckdb-spill-${process.pid}-test`);
    const setting = await session.connection.runAndReadAll("SELECT current_setting('temp_directory') AS t");
    expect(setting.getRowObjectsJS()[0]!['t']).toBe(spill);
    // A sort far beyond 64 MB finishes only by spilling, and it spills there.
    const sorted = await session.connection.runAndReadAll(
      'SELECT count(*)::INTEGER AS n FROM (SELECT md5(range::VARCHAR) AS h FROM range(4000000) ORDER BY h)',
    );
    expect(sorted.getRowObjectsJS()[0]!['n']).toBe(4_000_000);
    expect(existsSync(spill)).toBe(true);
    await session.close();

    // Its own folder and a dead process's are gone; a live process's is left to it.
    expect((await readdir(current)).sort()).toEqual([alive]);
  });

  it('refuses to spill through a link planted at current/ (the spill holds message rows)', async () => {
    const out = await tempDir();
    const elsewhere = await tempDir();
    await symlink(elsewhere, join(out, 'current'));
    await expect(
      openDuckDb(out, 'test', { memoryLimitMb: 64, threads: 1, task: 'testing' }),
    ).rejects.toMatchObject({
      code: 'ESYMLINK',
    });
    expect(await readdir(elsewhere)).toEqual([]);
  });

  it('open one at a time in a process: the next opens when the one before closes, even one that failed to open', async () => {
    const out = await tempDir();
    const settings = { memoryLimitMb: 64, threads: 1, task: 'testing' };
    const events: string[] = [];
    const first = await openDuckDb(out, 'first', settings);
    const second = openDuckDb(out, 'second', settings).then((s) => {
      events.push('second open');
      return s;
    });
    // A link planted at current/ makes this one fail to open: its turn must still end.
    const linked = await tempDir();
    await symlink(await tempDir(), join(linked, 'current'));
    const failing = openDuckDb(linked, 'failing', settings).catch((e: unknown) => {
      events.push('failing refused');
      return e;
    });
    // Work on the first session while the others wait (DuckDB opens in milliseconds: they would be open by now).
    for (let i = 0; i < 3; i++)
      await first.connection.run('SELECT count(*) FROM range(3000000) t(i) WHERE i % 7 = 0');
    events.push('first closing');
    await first.close();
    await (await second).close();
    expect(await failing).toMatchObject({ code: 'ESYMLINK' });
    const third = await openDuckDb(out, 'third', settings);
    await third.close();
    expect(events).toEqual(['first closing', 'second open', 'failing refused']);
  });
});
