import { defineCommand } from './define-command.js';
import { DUCKDB_MEMORY_OPTION, JSON_OPTION, outputOptions } from './shared-options.js';

export const pruneDefinition = defineCommand({
  command: 'prune',
  describe: 'Remove old snapshots whose rows the current view already holds',
  builder: (y) =>
    y
      .options({
        keep: {
          type: 'string',
          demandOption: true,
          describe: 'Snapshots to keep: a number (newest N) or an age (90m, 12h, 14d, 2w)',
        },
      })
      .options(outputOptions({ output: 'Output root', stateDir: 'Run state and locks' }))
      .options({
        account: { type: 'string', describe: 'Only this account id (default: every account)' },
        compact: {
          type: 'boolean',
          default: false,
          describe: 'Rebuild the current view first, so every old snapshot can go',
        },
        'dry-run': { type: 'boolean', default: false, describe: 'Only say what would be removed' },
      })
      .options(DUCKDB_MEMORY_OPTION)
      .options(JSON_OPTION)
      .example(
        '$0 prune --keep 14d --compact',
        'fold everything into the current view, keep two weeks of snapshots',
      )
      .example('$0 prune --keep 48 --dry-run', 'what keeping the 48 newest snapshots would remove'),
  handler: async (args) => {
    const { pruneCommand } = await import('../commands/prune.js');
    return pruneCommand(args);
  },
});
