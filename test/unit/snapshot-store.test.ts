import { mkdir, mkdtemp, readdir, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildManifest } from '../../src/pipeline/publishing/manifest-builder.js';
import { LocalSnapshotStore } from '../../src/snapshots/snapshot-store.js';
import { testManifestInput } from '../helpers/export-options.js';

const manifestFor = (snapshotId: string) => buildManifest(testManifestInput({ snapshotId }));

describe('LocalSnapshotStore', () => {
  it('lists a snapshot only once it is published with its manifest, and removes it whole', async () => {
    const root = await mkdtemp(join(tmpdir(), 'ig-export-store-'));
    const store = new LocalSnapshotStore(root);
    const staged = store.stage('17', '20261202T000000.000Z');
    await writeFile(join(staged.dir, 'messages.ndjson'), '');
    expect(await store.list('17')).toEqual([]);
    expect(await store.has('17', '20261202T000000.000Z')).toBe(false);
    const where = await staged.publish(manifestFor('20261202T000000.000Z'));
    expect(where).toBe(join(root, 'account=17', 'snapshot=20261202T000000.000Z'));
    expect(await store.list('17')).toEqual(['20261202T000000.000Z']);
    expect(await store.accounts()).toEqual(['17']);
    expect((await store.readManifest('17', '20261202T000000.000Z')).snapshot_id).toBe('20261202T000000.000Z');
    expect(await readdir(where)).toEqual(expect.arrayContaining(['manifest.json', 'messages.ndjson']));
    expect(store.fileLocation('17', '20261202T000000.000Z', 'messages.ndjson')).toBe(
      join(where, 'messages.ndjson'),
    );
    await store.remove('17', '20261202T000000.000Z');
    expect(await store.list('17')).toEqual([]);
    expect(await readdir(join(root, 'account=17'))).toEqual([]);
  });

  it('discards a staged snapshot without a trace, and refuses an account folder that is a link', async () => {
    const root = await mkdtemp(join(tmpdir(), 'ig-export-store-'));
    const store = new LocalSnapshotStore(root);
    const staged = store.stage('17', '20261202T000000.000Z');
    await staged.discard();
    expect(await readdir(join(root, 'account=17'))).toEqual([]);
    const elsewhere = join(root, 'elsewhere');
    await mkdir(elsewhere);
    await symlink(elsewhere, join(root, 'account=18'));
    expect(() => store.stage('18', '20261202T000000.000Z')).toThrow(/link/);
    await expect(store.list('18')).rejects.toThrow(/link/);
  });
});
