import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Column } from '../schema/tables.js';
import { createNdjsonWriter } from '../writers/ndjson-writer.js';
import type { ParquetWriterOptions } from '../writers/parquet-options.js';
import { createParquetWriter } from '../writers/parquet-writer.js';
import type { TableWriter } from '../writers/table-writer.js';

/**
 * The formats every table of a snapshot is written in: the one list the writer, the layout and `verify` all follow.
 * A new format (CSV, say) is one more entry here, with its writer in src/writers/.
 */
export interface TableFormatSpec {
  /** Also the file extension: `<table>.<name>`. */
  readonly name: string;
  /** Opens a streaming writer of one table into `path` (created, never overwritten). */
  open<Row extends object>(
    path: string,
    columns: readonly Column[],
    parquet: ParquetWriterOptions,
  ): TableWriter<Row>;
  /**
   * Counts a file's rows, as `verify` checks them against the manifest; `byConversation` when the format can tell
   * cheaply (verify then checks each conversation's accounting too).
   */
  count(path: string): Promise<{ rows: number; byConversation?: Map<string, number> }>;
}

const ndjson = {
  name: 'ndjson',
  open: (path, columns) => createNdjsonWriter(path, columns),
  async count(path) {
    let rows = 0;
    const byConversation = new Map<string, number>();
    for await (const line of createInterface({
      input: createReadStream(path, 'utf8'),
      crlfDelay: Infinity,
    })) {
      if (line === '') continue;
      const row = JSON.parse(line) as { conversation_id?: unknown };
      rows++;
      if (typeof row.conversation_id === 'string')
        byConversation.set(row.conversation_id, (byConversation.get(row.conversation_id) ?? 0) + 1);
    }
    return { rows, byConversation };
  },
} as const satisfies TableFormatSpec;

const parquet = {
  name: 'parquet',
  open: (path, columns, options) => createParquetWriter(path, columns, options),
  async count(path) {
    // Loaded when a file is counted (verify, compact), not by every command that only writes.
    const { asyncBufferFromFile, parquetMetadataAsync } = await import('hyparquet');
    const metadata = await parquetMetadataAsync(await asyncBufferFromFile(path));
    return { rows: Number(metadata.num_rows) };
  },
} as const satisfies TableFormatSpec;

export const FORMATS = [ndjson, parquet] as const;

export type TableFormat = (typeof FORMATS)[number]['name'];

/** The format of a data file, by its extension. */
export function formatOfFile(name: string): TableFormatSpec | undefined {
  return FORMATS.find((f) => name.endsWith(`.${f.name}`));
}
