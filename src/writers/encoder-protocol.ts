import type { ColumnBuffers } from './arrow-batch.js';
import type { ParquetCompression } from './parquet-options.js';

/** What the pool sends the encoder thread about one stream (one file), by its id. */
export type EncoderRequest =
  | {
      type: 'open';
      id: number;
      path: string;
      /** The Arrow schema, as an IPC stream of an empty table. */
      schemaIpc: Uint8Array;
      compression: ParquetCompression;
      rowGroupSize: number;
    }
  | { type: 'batch'; id: number; length: number; columns: ColumnBuffers[] }
  | { type: 'end'; id: number }
  | { type: 'abort'; id: number };

/** What the encoder thread says about one stream. */
export interface EncoderReply {
  type: 'taken' | 'closed' | 'aborted' | 'error';
  id: number;
  message?: string;
  code?: unknown;
}
