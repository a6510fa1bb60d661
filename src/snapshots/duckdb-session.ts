import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { ensureDirSync, refuseLink } from '../output-path.js';
import { processAlive } from '../state/run-lock.js';
import { DuckDbMemoryError } from './duckdb-memory.js';

export { DEFAULT_DUCKDB_MEMORY_MB, DuckDbMemoryError } from './duckdb-memory.js';

/** A DuckDB connection over an output's snapshots; `close` ends it and removes its spill folder. */
export interface DuckDbSession {
  connection: DuckDBConnection;
  /** `e` as a DuckDbMemoryError when it is DuckDB's "Out of Memory" (else `e` itself): throw what this returns. */
  explain(e: unknown): unknown;
  close(): Promise<void>;
}

const OUT_OF_MEMORY = /^Out of Memory Error: ?(.*)/;

const SPILL = /^\.duckdb-spill-(\d+)-/;

export interface DuckDbSettings {
  memoryLimitMb: number;
  threads: number;
  /** What the session is for, as the memory error names it: "compacting account 1784…". */
  task: string;
}

/** The end of the queue of sessions: each one opens once the one before it has closed. */
let lastTurn: Promise<void> = Promise.resolve();

/** Waits for the process's turn at DuckDB; the function returned ends the turn. */
async function takeTurn(): Promise<() => void> {
  let end!: () => void;
  const turn = new Promise<void>((resolve) => (end = resolve));
  const before = lastTurn;
  lastTurn = before.then(() => turn);
  await before;
  return end;
}

/**
 * An in-memory DuckDB with a memory limit, spilling to `<output>/current/.duckdb-spill-<pid>-<tag>`. DuckDB's own
 * default, `.tmp` in the working directory, fails where that is read-only (a cron job's, a container's) and litters
 * it elsewhere; the output is writable by definition. What a killed process left there is removed by the next session
 * (only folders of dead processes: other accounts may be at work).
 *
 * One session at a time in a process: a fleet's `export --compact` would otherwise fold every account at once, each
 * with its own limit (8 accounts of 67,000 messages peaked at 1.38 GB; one at a time, 875 MB; not compacting,
 * 658 MB). The others wait their turn; close every session opened.
 */
export async function openDuckDb(
  outputRoot: string,
  tag: string,
  settings: DuckDbSettings,
): Promise<DuckDbSession> {
  const endTurn = await takeTurn();
  try {
    const session = await openSession(outputRoot, tag, settings);
    return {
      ...session,
      async close() {
        try {
          await session.close();
        } finally {
          endTurn();
        }
      },
    };
  } catch (e) {
    endTurn();
    throw e;
  }
}

async function openSession(
  outputRoot: string,
  tag: string,
  settings: DuckDbSettings,
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
    memory_limit: `${settings.memoryLimitMb}MB`,
    threads: String(settings.threads),
    temp_directory: spill,
  });
  const connection = await db.connect();
  return {
    connection,
    explain(e) {
      const oom = OUT_OF_MEMORY.exec(e instanceof Error ? (e.message.split('\n')[0] ?? '') : '');
      return oom ? new DuckDbMemoryError(settings.memoryLimitMb, settings.task, oom[1] ?? '') : e;
    },
    async close() {
      connection.closeSync();
      db.closeSync();
      await rm(spill, { recursive: true, force: true });
    },
  };
}
