import type { Column } from '../schema/tables.js';

/** Validity bitmap (bit set = value present); undefined when the column has no null in this batch. */
class Validity {
  private readonly bitmap: Uint8Array;
  nulls = 0;

  constructor(length: number) {
    this.bitmap = new Uint8Array((length + 7) >> 3);
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
function utf8Buffers(length: number, valueAt: (i: number) => unknown, scratch: ScratchBuffer): ColumnBuffers {
  const valid = new Validity(length);
  const offsets = new Int32Array(length + 1);
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
  // A fresh, unpooled copy: it is transferred to the encoder thread while the scratch buffer is reused.
  const data = new Uint8Array(pos);
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
  scratch: ScratchBuffer = new ScratchBuffer(),
): ColumnBuffers[] {
  const length = rows.length;
  return columns.map((c): ColumnBuffers => {
    const valid = new Validity(length);
    const name = c.name;
    switch (c.type) {
      case 'string':
        return utf8Buffers(length, (i) => rows[i]![name], scratch);
      case 'json':
        return utf8Buffers(length, (i) => jsonText(rows[i]![name]), scratch);
      case 'string_list': {
        const offsets = new Int32Array(length + 1);
        const items: unknown[] = [];
        for (let i = 0; i < length; i++) {
          const v = rows[i]![name];
          const present = Array.isArray(v);
          valid.set(i, present);
          if (present) for (const item of v as unknown[]) items.push(item);
          offsets[i + 1] = items.length;
        }
        const child = { ...utf8Buffers(items.length, (i) => items[i], scratch), length: items.length };
        return {
          nullCount: valid.nulls,
          nullBitmap: valid.nullBitmap,
          valueOffsets: offsets,
          data: undefined,
          child,
        };
      }
      case 'int32': {
        const data = new Int32Array(length);
        for (let i = 0; i < length; i++) {
          const v = rows[i]![name];
          valid.set(i, v !== null && v !== undefined);
          data[i] = typeof v === 'number' ? v : 0;
        }
        return { nullCount: valid.nulls, nullBitmap: valid.nullBitmap, valueOffsets: undefined, data };
      }
      case 'boolean': {
        const data = new Uint8Array((length + 7) >> 3);
        for (let i = 0; i < length; i++) {
          const v = rows[i]![name];
          valid.set(i, v !== null && v !== undefined);
          if (v === true) data[i >> 3]! |= 1 << (i & 7);
        }
        return { nullCount: valid.nulls, nullBitmap: valid.nullBitmap, valueOffsets: undefined, data };
      }
      case 'timestamp': {
        // Epoch milliseconds are below 2^53: write the two 32-bit halves instead of a BigInt per value.
        const data = new BigInt64Array(length);
        const halves = new Uint32Array(data.buffer);
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
