import type { Column } from '../schema/tables.js';

/** Validity bitmap (bit set = value present); undefined when the column has no null in this batch. */
class Validity {
  private readonly bitmap: Uint8Array;
  nulls = 0;

  constructor(length: number, memory: BatchMemory) {
    this.bitmap = memory.bytes((length + 7) >> 3);
  }

  set(i: number, present: boolean): void {
    if (present) this.bitmap[i >> 3]! |= 1 << (i & 7);
    else this.nulls++;
  }

  get nullBitmap(): Uint8Array | undefined {
    return this.nulls === 0 ? undefined : this.bitmap;
  }
}

/** A growable byte buffer reused across batches for UTF-8 encoding. */
export class ScratchBuffer {
  bytes: Buffer = Buffer.allocUnsafeSlow(1 << 20);

  ensure(size: number): void {
    if (size <= this.bytes.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(size, this.bytes.length * 2));
    this.bytes.copy(grown);
    this.bytes = grown;
  }
}

/** Sets of batch buffers kept for reuse: the encoder holds at most 4 batches at a time. */
const MAX_KEPT_SETS = 8;

/**
 * The memory of the batches one writer sends: a scratch buffer to encode strings into, and the column buffers
 * themselves, which the encoder thread hands back once a batch is encoded. Every batch of a table asks for its
 * buffers in the same order, so the n-th buffer of a returned set serves the n-th request of a later batch (a
 * larger one replaces it when it does not fit). Reusing them instead of allocating a fresh set per batch keeps the
 * process's memory flat: freed buffers wait for a garbage collection, and that sawtooth's peak grew with the length
 * of the export.
 */
export class BatchMemory {
  readonly scratch = new ScratchBuffer();
  private readonly kept: ArrayBuffer[][] = [];
  private reuse: ArrayBuffer[] | undefined;
  private batch: ArrayBuffer[] = [];

  /** A buffer of at least `size` bytes: the next of the reused set if it fits, or a new one with room to grow. */
  private buffer(size: number): ArrayBuffer {
    if (this.batch.length === 0) this.reuse = this.kept.pop();
    const candidate = this.reuse?.[this.batch.length];
    const found =
      candidate !== undefined && candidate.byteLength >= size
        ? candidate
        : new ArrayBuffer(Math.max(1024, Math.ceil((size * 1.25) / 1024) * 1024));
    this.batch.push(found);
    return found;
  }

  /** `n` bytes, zeroed unless `zero` is false (the caller overwrites them all). */
  bytes(n: number, zero = true): Uint8Array {
    const view = new Uint8Array(this.buffer(n), 0, n);
    return zero ? view.fill(0) : view;
  }

  /** `n` 32-bit integers, zeroed. */
  int32(n: number): Int32Array {
    return new Int32Array(this.buffer(4 * n), 0, n).fill(0);
  }

  /** `n` 64-bit integers, each written by the caller. */
  int64(n: number): BigInt64Array {
    return new BigInt64Array(this.buffer(8 * n), 0, n);
  }

  /** The buffers of the batch built since the last call, to transfer to the encoder with it. */
  takeBatch(): ArrayBuffer[] {
    const batch = this.batch;
    this.batch = [];
    this.reuse = undefined;
    return batch;
  }

  /** A batch's buffers back from the encoder, for a later batch. */
  recycle(buffers: readonly ArrayBuffer[]): void {
    if (buffers.length > 0 && this.kept.length < MAX_KEPT_SETS) this.kept.push([...buffers]);
  }
}
type Utf8Writer = (target: Buffer, value: string, offset: number) => number;
/**
 * `Buffer#utf8Write` is what `Buffer#write(…, 'utf8')` calls after checking its arguments; calling it directly
 * encodes string columns about 1.6x faster. Falls back to the documented method where it is missing.
 */
const utf8Write: Utf8Writer =
  typeof (Buffer.prototype as { utf8Write?: unknown }).utf8Write === 'function'
    ? (target, value, offset) =>
        (target as unknown as { utf8Write(s: string, o: number): number }).utf8Write(value, offset)
    : (target, value, offset) => target.write(value, offset, 'utf8');

/** One column of a batch as plain typed arrays: what Arrow's `makeData` takes, and cheap to move to a worker. */
export interface ColumnBuffers {
  nullCount: number;
  nullBitmap: Uint8Array | undefined;
  valueOffsets: Int32Array | undefined;
  data: Uint8Array | Int32Array | BigInt64Array | undefined;
  /** The values of a list column (its `valueOffsets` index into them). */
  child?: ColumnBuffers & { length: number };
}

/** UTF-8 bytes + offsets of `length` strings (`valueAt(i)` not a string = null). */
function utf8Buffers(length: number, valueAt: (i: number) => unknown, memory: BatchMemory): ColumnBuffers {
  const scratch = memory.scratch;
  const valid = new Validity(length, memory);
  const offsets = memory.int32(length + 1);
  let pos = 0;
  for (let i = 0; i < length; i++) {
    const v = valueAt(i);
    const present = typeof v === 'string';
    valid.set(i, present);
    if (present && v.length > 0) {
      scratch.ensure(pos + v.length * 3); // UTF-8 needs at most 3 bytes per UTF-16 code unit
      pos += utf8Write(scratch.bytes, v, pos);
    }
    offsets[i + 1] = pos;
  }
  // A copy: it is transferred to the encoder thread while the scratch buffer is reused.
  const data = memory.bytes(pos, false);
  data.set(scratch.bytes.subarray(0, pos));
  return { nullCount: valid.nulls, nullBitmap: valid.nullBitmap, valueOffsets: offsets, data };
}

/** A JSON column's text: objects are serialised, text (read back from a Parquet file) is kept as it is. */
const jsonText = (v: unknown): string | null =>
  v === null || v === undefined ? null : typeof v === 'string' ? v : JSON.stringify(v);

/**
 * Lays out one batch of rows as Arrow column buffers (UTF-8 bytes + offsets, Int32Array, bit-packed booleans,
 * BigInt64Array), one pass per column: about 4x faster than Arrow's row builders.
 */
export function buildColumnBuffers(
  columns: readonly Column[],
  rows: readonly Record<string, unknown>[],
  memory: BatchMemory = new BatchMemory(),
): ColumnBuffers[] {
  const length = rows.length;
  return columns.map((c): ColumnBuffers => {
    const valid = new Validity(length, memory);
    const name = c.name;
    switch (c.type) {
      case 'string':
        return utf8Buffers(length, (i) => rows[i]![name], memory);
      case 'json':
        return utf8Buffers(length, (i) => jsonText(rows[i]![name]), memory);
      case 'string_list': {
        const offsets = memory.int32(length + 1);
        const items: unknown[] = [];
        for (let i = 0; i < length; i++) {
          const v = rows[i]![name];
          const present = Array.isArray(v);
          valid.set(i, present);
          if (present) for (const item of v as unknown[]) items.push(item);
          offsets[i + 1] = items.length;
        }
        const child = { ...utf8Buffers(items.length, (i) => items[i], memory), length: items.length };
        return {
          nullCount: valid.nulls,
          nullBitmap: valid.nullBitmap,
          valueOffsets: offsets,
          data: undefined,
          child,
        };
      }
      case 'int32': {
        const data = memory.int32(length);
        for (let i = 0; i < length; i++) {
          const v = rows[i]![name];
          valid.set(i, v !== null && v !== undefined);
          data[i] = typeof v === 'number' ? v : 0;
        }
        return { nullCount: valid.nulls, nullBitmap: valid.nullBitmap, valueOffsets: undefined, data };
      }
      case 'boolean': {
        const data = memory.bytes((length + 7) >> 3);
        for (let i = 0; i < length; i++) {
          const v = rows[i]![name];
          valid.set(i, v !== null && v !== undefined);
          if (v === true) data[i >> 3]! |= 1 << (i & 7);
        }
        return { nullCount: valid.nulls, nullBitmap: valid.nullBitmap, valueOffsets: undefined, data };
      }
      case 'timestamp': {
        // Epoch milliseconds are below 2^53: write the two 32-bit halves instead of a BigInt per value.
        const data = memory.int64(length);
        const halves = new Uint32Array(data.buffer, 0, 2 * length);
        for (let i = 0; i < length; i++) {
          const v = rows[i]![name];
          valid.set(i, v !== null && v !== undefined);
          const ms = typeof v === 'number' ? Math.trunc(v) : 0;
          const high = Math.floor(ms / 4294967296);
          halves[2 * i] = ms - high * 4294967296;
          halves[2 * i + 1] = high;
        }
        return { nullCount: valid.nulls, nullBitmap: valid.nullBitmap, valueOffsets: undefined, data };
      }
    }
  });
}
