import type { Column } from '../schema/tables.js';

/** A row value that does not match its column: a bug upstream, never coerced into something else. */
export class SchemaViolationError extends Error {
  override name = 'SchemaViolationError';
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

function matches(c: Column, v: unknown): boolean {
  switch (c.type) {
    case 'string':
      return typeof v === 'string';
    case 'int32':
      return typeof v === 'number' && Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX;
    case 'boolean':
      return typeof v === 'boolean';
    case 'timestamp':
      return typeof v === 'number' && Number.isFinite(v);
    case 'string_list':
      return Array.isArray(v) && v.every((x) => x === null || typeof x === 'string');
    case 'json':
      // An object, or its JSON text (as read back from a Parquet file by compact).
      return typeof v === 'string' || (typeof v === 'object' && !Array.isArray(v));
  }
}

const kindOf = (v: unknown): string => (Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v);

/**
 * Checks a row against the table's columns before it is written, in both formats alike: a missing non-nullable
 * value or a value of the wrong type is an error naming the column and the types, never the value (it may be
 * personal data). Parquet used to write such a number as 0 and such a timestamp as 1970 while NDJSON kept it.
 */
export function checkRow(columns: readonly Column[], row: Record<string, unknown>): void {
  for (const c of columns) {
    const v = row[c.name];
    if (v === null || v === undefined) {
      if (!c.nullable)
        throw new SchemaViolationError(`column ${c.name} is not nullable, but the row has no value`);
      continue;
    }
    if (!matches(c, v))
      throw new SchemaViolationError(
        `column ${c.name} holds ${c.type}, but the row has a ${kindOf(v)} there`,
      );
  }
}
