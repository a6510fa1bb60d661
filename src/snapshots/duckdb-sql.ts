import { CONTENT_PREFERENCE } from '../schema/tables.js';

/** SQL text the DuckDB readers of snapshots share (compact, crash recovery, import-dyi); loads no DuckDB itself. */

/** A SQL string literal. */
export const sqlString = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** The rank of a row's status in CONTENT_PREFERENCE (0 best), every other status after them. */
export const contentRank = `CASE hydration_status ${CONTENT_PREFERENCE.map((s, i) => `WHEN ${sqlString(s)} THEN ${i}`).join(' ')} ELSE ${CONTENT_PREFERENCE.length} END`;
