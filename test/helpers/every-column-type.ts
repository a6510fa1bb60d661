import type { Column } from '../../src/schema/tables.js';

/** A table with one column of every type the schema knows, all but the first nullable: for the writers' tests. */
export const EVERY_COLUMN_TYPE: Column[] = [
  { name: 'id', type: 'string', nullable: false, description: '' },
  { name: 'at', type: 'timestamp', nullable: true, description: '' },
  { name: 'n', type: 'int32', nullable: true, description: '' },
  { name: 'ok', type: 'boolean', nullable: true, description: '' },
  { name: 'tags', type: 'string_list', nullable: true, description: '' },
  { name: 'raw', type: 'json', nullable: true, description: '' },
];
