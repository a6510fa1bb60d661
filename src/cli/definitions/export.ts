import type { ExportArgs } from '../commands/export.js';
import { defineCommand } from './define-command.js';
import { exportFlagOptions } from './export-flags.js';
import { FLEET_OPTIONS, JSON_OPTION } from './shared-options.js';

export const exportDefinition = defineCommand({
  command: 'export',
  describe: "Export the account's conversations into a new snapshot (the main job)",
  builder: (y) =>
    y
      .options(exportFlagOptions('export'))
      .options({
        config: {
          type: 'string',
          group: 'Account and token:',
          describe: 'JSON config file (keys = long flag names); flags override it; it may list accounts',
        },
      })
      .options(FLEET_OPTIONS)
      .group(['accounts', 'shard'], 'Account and token:')
      .options(JSON_OPTION)
      .group(['json'], 'Output:')
      .showHidden(
        'show-hidden',
        'With --help: also show the tuning options (page size, retries, concurrency, checkpoints, media)',
      )
      .example('IG_ACCESS_TOKEN=… $0 export', "export everything of the token's account into ./output")
      .example(
        '$0 export --token-file ~/.ig-token --config config/export.example.json --json',
        'cron-style run',
      )
      .example(
        '$0 export --token-file t --user-id 6521113831237472',
        "one person's conversation (compliance)",
      )
      .example(
        '$0 export --config fleet.json --shard 0/2 --json',
        'half of the accounts a fleet config lists; one JSON line per account, then the fleet line',
      ),
  handler: async (args) => {
    const { exportCommand } = await import('../commands/export.js');
    return exportCommand(args as unknown as ExportArgs);
  },
});
