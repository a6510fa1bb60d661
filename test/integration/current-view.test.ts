import { cp, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { describe, expect, it } from 'vitest';
import {
  compactAccount,
  CurrentViewAlteredError,
  SnapshotAlteredError,
} from '../../src/snapshots/compact.js';
import { verifyCurrentView } from '../../src/snapshots/verify.js';
import { DEFAULT_PARQUET_OPTIONS } from '../../src/writers/parquet-writer.js';
import { exportSandbox, tempDir } from '../helpers/export-options.js';
import { startSandbox } from '../helpers/sandbox-fixture.js';
import { VirtualClock } from '../helpers/virtual-clock.js';

const exact = new TextDecoder('utf-8', { ignoreBOM: true });

/** Every row of a Parquet file, strings decoded byte for byte (a leading U+FEFF kept), sorted by `key`. */
async function exactRows(path: string, key: string): Promise<Array<Record<string, unknown>>> {
  const rows = (await parquetReadObjects({
    file: await asyncBufferFromFile(path),
    compressors,
    parsers: { stringFromBytes: (bytes: Uint8Array) => exact.decode(bytes) },
  })) as Array<Record<string, unknown>>;
  return rows.sort((a, b) => String(a[key]).localeCompare(String(b[key])));
}

async function exported() {
  const clock = new VirtualClock();
  const sandbox = await startSandbox({ seed: 81, conversations: 8, now: () => clock.now() });
  // Texts that start with a byte order mark, once and twice, and one with it inside.
  const [a, b, c] = sandbox.data.conversations.map((x) => x.messages[0]!);
  a!.text = '\uFEFFBOM at the start';
  b!.text = '\uFEFF\uFEFFtwo of them';
  c!.text = 'inside \uFEFF the text';
  const out = await tempDir();
  const summary = await exportSandbox(sandbox, out, {}, { clock });
  const accountId = sandbox.data.account.userId;
  return { out, accountId, snapshot: summary.snapshotDir!, clock, texts: [a!.text, b!.text, c!.text] };
}

describe('the current view holds every value byte for byte, and is checked like a snapshot', () => {
  it('every column of every row equals the snapshot, a leading U+FEFF included', async () => {
    const { out, accountId, snapshot, clock, texts } = await exported();
    const view = await compactAccount(out, accountId, DEFAULT_PARQUET_OPTIONS, () => clock.now());
    for (const table of ['messages', 'conversations'] as const) {
      const key = table === 'messages' ? 'message_id' : 'conversation_id';
      const snapshotRows = await exactRows(join(snapshot, `${table}.parquet`), key);
      const viewRows = await exactRows(join(view.dir, `${table}.parquet`), key);
      expect(viewRows).toEqual(snapshotRows);
    }
    const messages = (await exactRows(join(view.dir, 'messages.parquet'), 'message_id')).map(
      (r) => r['message'],
    );
    for (const text of texts) expect(messages).toContain(text);
    expect((await verifyCurrentView(view.dir)).intact).toBe(true);
  });

  it('a flipped byte in the view is found by verify and refused by compact; --rebuild builds it from the snapshots', async () => {
    const { out, accountId, snapshot, clock } = await exported();
    const view = await compactAccount(out, accountId, DEFAULT_PARQUET_OPTIONS, () => clock.now());
    const file = join(view.dir, 'messages.parquet');
    const handle = await open(file, 'r+');
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, 200);
    byte[0] = byte[0]! ^ 0xff;
    await handle.write(byte, 0, 1, 200);
    await handle.close();

    const check = await verifyCurrentView(view.dir);
    expect(check.intact).toBe(false);
    expect(check.problems).toEqual([expect.objectContaining({ kind: 'altered', file: 'messages.parquet' })]);
    await expect(compactAccount(out, accountId, DEFAULT_PARQUET_OPTIONS, () => clock.now())).rejects.toThrow(
      CurrentViewAlteredError,
    );
    const rebuilt = await compactAccount(out, accountId, DEFAULT_PARQUET_OPTIONS, () => clock.now(), {
      rebuild: true,
    });
    expect(rebuilt.dropped).toBe(0);
    expect((await verifyCurrentView(rebuilt.dir)).intact).toBe(true);
    expect(await exactRows(file, 'message_id')).toEqual(
      await exactRows(join(snapshot, 'messages.parquet'), 'message_id'),
    );
  });

  it('a flipped byte in a snapshot is refused by compact (--rebuild too), and the view it would have replaced stays', async () => {
    const { out, accountId, snapshot, clock } = await exported();
    const view = await compactAccount(out, accountId, DEFAULT_PARQUET_OPTIONS, () => clock.now());
    const viewBefore = await exactRows(join(view.dir, 'messages.parquet'), 'message_id');
    const handle = await open(join(snapshot, 'messages.parquet'), 'r+');
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, 300);
    byte[0] = byte[0]! ^ 0xff;
    await handle.write(byte, 0, 1, 300);
    await handle.close();
    for (const rebuild of [false, true]) {
      const attempt = compactAccount(out, accountId, DEFAULT_PARQUET_OPTIONS, () => clock.now(), { rebuild });
      await expect(attempt).rejects.toThrow(SnapshotAlteredError);
      await expect(attempt).rejects.toThrow(/messages\.parquet: same size, different SHA-256/);
    }
    expect((await verifyCurrentView(view.dir)).intact).toBe(true);
    expect(await exactRows(join(view.dir, 'messages.parquet'), 'message_id')).toEqual(viewBefore);
  });

  it('a snapshot copied under a later snapshot id is refused by compact: it would win over newer rows', async () => {
    const { out, accountId, snapshot, clock } = await exported();
    await cp(snapshot, join(dirname(snapshot), 'snapshot=20991231T000000.000Z'), { recursive: true });
    await expect(compactAccount(out, accountId, DEFAULT_PARQUET_OPTIONS, () => clock.now())).rejects.toThrow(
      /manifest\.json: the folder is snapshot=20991231T000000\.000Z, but the manifest is snapshot/,
    );
  });
});
