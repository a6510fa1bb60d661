import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { ensureDirSync, refuseLink } from '../output-path.js';
import { processAlive } from '../state/run-lock.js';

/** A DuckDB connection over an output's snapshots; `close` ends it and removes its spill folder. */
export interface DuckDbSession {
  connection: DuckDBConnection;
  close(): Promise<void>;
}

const SPILL = /^\.duckdb-spill-(\d+)-/;

/**
 * An in-memory DuckDB with a memory limit, spilling to `<output>/current/.duckdb-spill-<pid>-<tag>`. DuckDB's own
 * default, `.tmp` in the working directory, fails where that is read-only (a cron job's, a container's) and litters
 * it elsewhere; the output is writable by definition. What a killed process left there is removed by the next session
 * (only folders of dead processes: other accounts may be at work).
 */
export async function openDuckDb(
  outputRoot: string,
  tag: string,
  settings: { memoryLimit: string; threads: number },
): Promise<DuckDbSession> {
  const current = join(outputRoot, 'current');
  refuseLink(current); // the spill holds message rows: never written through a link
  ensureDirSync(current);
  for (const name of await readdir(current)) {
    const pid = Number(SPILL.exec(name)?.[1]);
    if (Number.isInteger(pid) && pid > 0 && !processAlive(pid))
      await rm(join(current, name), { recursive: true, force: true });
  }
  const spill = join(current, `.duckdb-spill-${process.pid}-${tag}`);
  const db = await DuckDBInstance.create(':memory:', {
    memory_limit: settings.memoryLimit,
    threads: String(settings.threads),
    temp_directory: spill,
  });
  const connection = await db.connect();
  return {
    connection,
    async close() {
      connection.closeSync();
      db.closeSync();
      await rm(spill, { recursive: true, force: true });
    },
  };
}
