import { join } from 'node:path';
import type { Options } from 'yargs';
import { DEFAULT_DUCKDB_MEMORY_MB } from '../../snapshots/duckdb-memory.js';

/** Option fragments more than one command declares, written once. */

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;

export const JSON_OPTION = {
  json: {
    type: 'boolean',
    default: false,
    describe: 'Print exactly one JSON summary line on stdout',
  },
} as const satisfies Record<string, Options>;

/** The one place the state folder's default is decided: `<output>/_state`. */
export function stateDirOf(args: { output?: string | undefined; 'state-dir'?: string | undefined }): string {
  return args['state-dir'] ?? join(args.output ?? 'output', '_state');
}

/** `--output` and `--state-dir`, for commands that read or write an output root. */
export function outputOptions(describe: { output: string; stateDir: string }) {
  return {
    output: { type: 'string', default: 'output', describe: describe.output },
    'state-dir': { type: 'string', describe: `${describe.stateDir} (default <output>/_state)` },
  } as const satisfies Record<string, Options>;
}

/** DuckDB's memory limit, for the commands that fold snapshots with it (compact, prune, export --compact, import-dyi). */
export const DUCKDB_MEMORY_OPTION = {
  'duckdb-memory': {
    type: 'number',
    default: DEFAULT_DUCKDB_MEMORY_MB,
    describe:
      "DuckDB's memory limit in MB for folding snapshots (it spills to disk beyond it; the process needs about 400 MB more)",
  },
} as const satisfies Record<string, Options>;

/** How a command reaches the Graph API, as for export. */
export const GRAPH_CONNECTION_OPTIONS = {
  'token-file': {
    type: 'string',
    describe: 'File holding the access token (otherwise IG_ACCESS_TOKEN)',
  },
  'base-url': {
    type: 'string',
    describe: 'Graph API host (default https://graph.instagram.com)',
  },
  'api-version': { type: 'string', describe: 'Graph API version (default v23.0)' },
} as const satisfies Record<string, Options>;

/** Choosing among the accounts a config file lists (export and doctor). */
export const FLEET_OPTIONS = {
  accounts: {
    type: 'string',
    describe: 'With an "accounts" list in --config: only these accounts (names, comma-separated)',
  },
  shard: {
    type: 'string',
    describe:
      'With an "accounts" list in --config: only shard i of n (i/n, 0-based), chosen by account id, so hosts split a fleet without coordination',
  },
} as const satisfies Record<string, Options>;

/** A renamed option's old spelling still works for one release, with one line on stderr saying the new name. */
export function warnRenamed(oldName: string, newName: string, command: string): void {
  process.stderr.write(
    `ig-export: ${command} --${oldName} is now --${newName}; the old name goes in the next release\n`,
  );
}
