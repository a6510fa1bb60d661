import type { Column } from '../schema/tables.js';
import type { ColumnBuffers } from './arrow-batch.js';
import type { ParquetCompression } from './parquet-options.js';

/** What the pool sends the encoder thread about one stream (one file), by its id. */
export type EncoderRequest =
  | {
      type: 'open';
      id: number;
      path: string;
      /** The table's columns; the thread makes the Arrow schema of them (arrow-ipc.ts). */
      columns: readonly Column[];
      compression: ParquetCompression;
      rowGroupSize: number;
    }
  | {
      type: 'batch';
      id: number;
      length: number;
      columns: ColumnBuffers[];
      /** Every buffer the columns are views of (transferred): they come back with 'taken', to be reused. */
      buffers: ArrayBuffer[];
    }
  | { type: 'end'; id: number }
  | { type: 'abort'; id: number };

/** What the encoder thread says about one stream. */
export interface EncoderReply {
  type: 'taken' | 'closed' | 'aborted' | 'error';
  id: number;
  message?: string;
  code?: unknown;
  /** With 'taken': the batch's buffers, handed back (transferred) once its data is in the encoder. */
  buffers?: ArrayBuffer[];
}
