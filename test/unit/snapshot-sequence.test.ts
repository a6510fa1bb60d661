import { describe, expect, it } from 'vitest';
import { SnapshotSequence } from '../../src/pipeline/publishing/snapshot-sequence.js';
import type { MessageRow } from '../../src/schema/tables.js';
import { DEFAULT_PARQUET_OPTIONS } from '../../src/writers/parquet-writer.js';
import { tempDir, TEST_RUN_INFO } from '../helpers/export-options.js';

describe('SnapshotSequence', () => {
  it('refuses to write rows, or to publish, when no snapshot is open', async () => {
    const sequence = new SnapshotSequence(
      await tempDir(),
      DEFAULT_PARQUET_OPTIONS,
      TEST_RUN_INFO,
      { calls: {}, failures: {}, retries: {}, throttles: 0, throttleWaitMs: 0 },
      undefined,
      () => 0,
    );
    await expect(sequence.writeMessage({ conversation_id: 'c' } as MessageRow)).rejects.toThrow(
      /no snapshot is open/,
    );
    await expect(sequence.publish(true, undefined)).rejects.toThrow(/no snapshot is open/);
  });
});
