import * as A from 'apache-arrow';
import type { Column } from '../schema/tables.js';

/** The Arrow schema of a table: TIMESTAMP(ms, UTC), UTF-8 strings, INT32, BOOLEAN, nullability from the schema. */
export function arrowSchema(columns: readonly Column[]): A.Schema {
  return new A.Schema(columns.map((c) => new A.Field(c.name, arrowType(c), c.nullable)));
}

function arrowType(c: Column): A.DataType {
  switch (c.type) {
    case 'string':
      return new A.Utf8();
    case 'int32':
      return new A.Int32();
    case 'boolean':
      return new A.Bool();
    case 'timestamp':
      return new A.TimestampMillisecond('UTC');
  }
}

function validity(
  rows: readonly Record<string, unknown>[],
  name: string,
): { bitmap: Uint8Array; nulls: number } {
  const bitmap = new Uint8Array(Math.ceil(rows.length / 8));
  let nulls = 0;
  rows.forEach((r, i) => {
    const v = r[name];
    if (v === null || v === undefined) nulls++;
    else bitmap[i >> 3]! |= 1 << (i & 7);
  });
  return { bitmap, nulls };
}

/**
 * Builds one Arrow record batch straight from typed arrays (UTF-8 bytes + offsets, Int32Array, BigInt64Array):
 * about 4x faster than Arrow's row builders, which matters for a 100k rows/s writer.
 */
export function buildRecordBatch(
  schema: A.Schema,
  columns: readonly Column[],
  rows: readonly Record<string, unknown>[],
): A.RecordBatch {
  const length = rows.length;
  const children = columns.map((c, index) => {
    const field = schema.fields[index];
    if (!field) throw new Error(`schema has no field ${index}`);
    const { bitmap, nulls } = validity(rows, c.name);
    const nullBitmap = nulls === 0 ? undefined : bitmap;
    switch (c.type) {
      case 'string': {
        const offsets = new Int32Array(length + 1);
        let size = 0;
        for (const r of rows) {
          const v = r[c.name];
          if (typeof v === 'string') size += Buffer.byteLength(v, 'utf8');
        }
        const bytes = Buffer.allocUnsafe(size);
        let pos = 0;
        rows.forEach((r, i) => {
          const v = r[c.name];
          if (typeof v === 'string') pos += bytes.write(v, pos, 'utf8');
          offsets[i + 1] = pos;
        });
        return A.makeData({
          type: field.type as A.Utf8,
          length,
          nullCount: nulls,
          nullBitmap,
          valueOffsets: offsets,
          data: bytes,
        });
      }
      case 'int32': {
        const data = new Int32Array(length);
        rows.forEach((r, i) => {
          data[i] = Number(r[c.name] ?? 0);
        });
        return A.makeData({ type: field.type as A.Int32, length, nullCount: nulls, nullBitmap, data });
      }
      case 'boolean': {
        const data = new Uint8Array(Math.ceil(length / 8));
        rows.forEach((r, i) => {
          if (r[c.name] === true) data[i >> 3]! |= 1 << (i & 7);
        });
        return A.makeData({ type: field.type as A.Bool, length, nullCount: nulls, nullBitmap, data });
      }
      case 'timestamp': {
        const data = new BigInt64Array(length);
        rows.forEach((r, i) => {
          data[i] = BigInt(Math.trunc(Number(r[c.name] ?? 0)));
        });
        return A.makeData({
          type: field.type as A.TimestampMillisecond,
          length,
          nullCount: nulls,
          nullBitmap,
          data,
        });
      }
    }
  });
  const struct = A.makeData({ type: new A.Struct(schema.fields), length, nullCount: 0, children });
  return new A.RecordBatch(schema, struct);
}
