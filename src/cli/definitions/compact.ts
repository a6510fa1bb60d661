import { defineCommand } from './define-command.js';
import { DUCKDB_MEMORY_OPTION, JSON_OPTION, outputOptions } from './shared-options.js';

export const compactDefinition = defineCommand({
  command: 'compact',
  describe: 'Build the current view (one row per message and per conversation) from all snapshots',
  builder: (y) =>
    y
      .options(
        outputOptions({
          output: 'Output root holding account=<id>/snapshot=<id>/',
          stateDir: 'Run state and locks',
        }),
      )
      .options({
        account: { type: 'string', describe: 'Only this account id (default: every account under --output)' },
        compression: {
          choices: ['zstd', 'snappy', 'gzip', 'none'] as const,
          default: 'zstd' as const,
          describe: 'Parquet compression',
        },
        rebuild: {
          type: 'boolean',
          default: false,
          describe:
            'Build the view from the snapshots alone, ignoring the previous view (when verify says it was altered)',
        },
      })
      .options(DUCKDB_MEMORY_OPTION)
      .options(JSON_OPTION)
      .example('$0 compact', 'writes output/current/account=<id>/messages.parquet and conversations.parquet'),
  handler: async (args) => {
    const { compactCommand } = await import('../commands/compact.js');
    return compactCommand(args);
  },
});
