import { Builder } from 'flatbuffers';
import type { Column } from '../schema/tables.js';
import type { ColumnBuffers } from './arrow-batch.js';

/**
 * The Arrow IPC stream of one batch of column buffers (what parquet-wasm's `Table.fromIPCStream` reads), written
 * into one buffer that every batch of the thread reuses. apache-arrow's `tableToIPC` allocated a fresh buffer the
 * size of the batch each time (megabytes, freed only by a later garbage collection), and the thread's malloc arena
 * grew with the length of an export; loading apache-arrow also cost each encoder thread about 40 ms at start.
 *
 * The format (Arrow columnar format, "Serialization and Interprocess Communication"):
 * https://arrow.apache.org/docs/format/Columnar.html#serialization-and-interprocess-communication-ipc
 * - A stream is a Schema message, RecordBatch messages and an end marker (0xFFFFFFFF, then a zero length).
 * - A message is 0xFFFFFFFF, the length of its metadata, the metadata (a `Message` flatbuffer, Message.fbs and
 *   Schema.fbs), padded so that the body starts on 8 bytes, then the body.
 * - A RecordBatch body holds every buffer of the batch, each at an offset that is a multiple of 8. The metadata
 *   lists a (length, null count) node per column, depth first (a list column, then its values), and an (offset,
 *   length) per buffer: validity, then offsets and data as the type has them.
 */

/** Enum values of Message.fbs and Schema.fbs. */
const METADATA_V5 = 4;
const HEADER = { schema: 1, recordBatch: 3 } as const;
const TYPE = { int: 2, utf8: 5, bool: 6, timestamp: 10, list: 12 } as const;
const TIME_UNIT_MILLISECOND = 1;
const CONTINUATION = 0xffffffff;

/** A growable byte buffer: batches are written into the same memory, which grows to the largest batch. */
export class IpcBuffer {
  private bytes: Uint8Array;
  private view: DataView;
  length = 0;

  constructor(initialSize = 1 << 20) {
    this.bytes = new Uint8Array(initialSize);
    this.view = new DataView(this.bytes.buffer);
  }

  ensure(size: number): void {
    if (size <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(size, Math.ceil(this.bytes.length * 1.5)));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }

  put(data: Uint8Array): void {
    this.ensure(this.length + data.length);
    this.bytes.set(data, this.length);
    this.length += data.length;
  }

  putUint32(value: number): void {
    this.ensure(this.length + 4);
    this.view.setUint32(this.length, value, true);
    this.length += 4;
  }

  /** Zeroes up to the next multiple of 8. */
  pad(): void {
    const end = (this.length + 7) & ~7;
    this.ensure(end);
    this.bytes.fill(0, this.length, end);
    this.length = end;
  }

  /** The bytes written (a view: valid until the next write). */
  written(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
}

/** A message: the continuation marker, the metadata's length, the metadata padded to 8 bytes (the body follows). */
function putMessage(out: IpcBuffer, metadata: Uint8Array): void {
  const padded = (metadata.length + 7) & ~7;
  out.putUint32(CONTINUATION);
  out.putUint32(padded);
  out.put(metadata);
  out.pad();
}

/** The `Message` table around a header; the finished flatbuffer. */
function finishMessage(b: Builder, headerType: number, header: number, bodyLength: number): Uint8Array {
  b.startObject(5);
  b.addFieldInt16(0, METADATA_V5, 0);
  b.addFieldInt8(1, headerType, 0);
  b.addFieldOffset(2, header, 0);
  b.addFieldInt64(3, BigInt(bodyLength), 0n);
  b.finish(b.endObject());
  return b.asUint8Array();
}

function offsetVector(b: Builder, offsets: readonly number[]): number {
  b.startVector(4, offsets.length, 4);
  for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i]!);
  return b.endVector();
}

/** A `Field` table: name, nullability, type (a union: its kind, then its table) and children. */
function field(b: Builder, name: string, nullable: boolean, type: Column['type']): number {
  const children = type === 'string_list' ? [field(b, 'item', true, 'string')] : [];
  const childVector = offsetVector(b, children);
  const nameOffset = b.createString(name);
  let typeTable: number;
  let kind: number;
  if (type === 'int32') {
    b.startObject(2);
    b.addFieldInt32(0, 32, 0); // bitWidth
    b.addFieldInt8(1, 1, 0); // is_signed
    [kind, typeTable] = [TYPE.int, b.endObject()];
  } else if (type === 'timestamp') {
    const zone = b.createString('UTC');
    b.startObject(2);
    b.addFieldInt16(0, TIME_UNIT_MILLISECOND, 0);
    b.addFieldOffset(1, zone, 0);
    [kind, typeTable] = [TYPE.timestamp, b.endObject()];
  } else {
    b.startObject(0); // Utf8, Bool and List have no fields
    kind = type === 'boolean' ? TYPE.bool : type === 'string_list' ? TYPE.list : TYPE.utf8;
    typeTable = b.endObject();
  }
  b.startObject(7);
  b.addFieldOffset(0, nameOffset, 0);
  b.addFieldInt8(1, nullable ? 1 : 0, 0);
  b.addFieldInt8(2, kind, 0);
  b.addFieldOffset(3, typeTable, 0);
  b.addFieldOffset(5, childVector, 0);
  return b.endObject();
}

/** A vector of two-long structs (FieldNode: length, null count; Buffer: offset, length). */
function pairVector(b: Builder, pairs: readonly (readonly [number, number])[]): number {
  b.startVector(16, pairs.length, 8);
  for (let i = pairs.length - 1; i >= 0; i--) {
    const [first, second] = pairs[i]!;
    b.prep(8, 16);
    b.writeInt64(BigInt(second));
    b.writeInt64(BigInt(first));
  }
  return b.endVector();
}

const bytesOf = (a: Uint8Array | Int32Array | BigInt64Array | undefined): Uint8Array | undefined =>
  a === undefined ? undefined : new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** The nodes and buffers of one column, depth first, as the RecordBatch lists them. */
function collect(
  c: ColumnBuffers,
  length: number,
  nodes: Array<[number, number]>,
  buffers: Array<Uint8Array | undefined>,
): void {
  nodes.push([length, c.nullCount]);
  buffers.push(c.nullBitmap); // undefined when the batch has no null: an empty buffer
  if (c.valueOffsets) buffers.push(bytesOf(c.valueOffsets));
  if (c.child) collect(c.child, c.child.length, nodes, buffers);
  else if (c.data) buffers.push(bytesOf(c.data));
}

/** Writes the IPC streams of one table's batches. */
export class ArrowIpcStream {
  private readonly builder = new Builder(1024);
  private readonly schemaMessage: Uint8Array;

  constructor(columns: readonly Column[]) {
    const b = this.builder;
    const fields = offsetVector(
      b,
      columns.map((c) => field(b, c.name, c.nullable, c.type)),
    );
    b.startObject(4);
    b.addFieldOffset(1, fields, 0);
    const metadata = finishMessage(b, HEADER.schema, b.endObject(), 0);
    const out = new IpcBuffer(metadata.length + 16);
    putMessage(out, metadata);
    this.schemaMessage = out.written();
  }

  /** One batch as a whole stream (schema, the batch, end marker) in `out`; returns a view valid until its next use. */
  write(out: IpcBuffer, length: number, columns: readonly ColumnBuffers[]): Uint8Array {
    const nodes: Array<[number, number]> = [];
    const parts: Array<Uint8Array | undefined> = [];
    for (const c of columns) collect(c, length, nodes, parts);
    const spans: Array<[number, number]> = [];
    let bodyLength = 0;
    for (const p of parts) {
      const size = p?.length ?? 0;
      spans.push([bodyLength, size]);
      bodyLength += (size + 7) & ~7;
    }
    const b = this.builder;
    b.clear();
    const nodeVector = pairVector(b, nodes);
    const bufferVector = pairVector(b, spans);
    b.startObject(5);
    b.addFieldInt64(0, BigInt(length), 0n);
    b.addFieldOffset(1, nodeVector, 0);
    b.addFieldOffset(2, bufferVector, 0);
    const metadata = finishMessage(b, HEADER.recordBatch, b.endObject(), bodyLength);

    out.length = 0;
    out.put(this.schemaMessage);
    putMessage(out, metadata);
    out.ensure(out.length + bodyLength + 8);
    for (const p of parts) {
      if (p !== undefined) out.put(p);
      out.pad();
    }
    out.putUint32(CONTINUATION);
    out.putUint32(0);
    return out.written();
  }
}
