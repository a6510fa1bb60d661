import { defineCommand } from './define-command.js';
import { DUCKDB_MEMORY_OPTION, JSON_OPTION, outputOptions } from './shared-options.js';

export const importDyiDefinition = defineCommand({
  command: 'import-dyi <archive>',
  describe:
    'Import the account\'s "Download your information" archive (zip or folder): the text of messages beyond the 20-message window',
  builder: (y) =>
    y
      .positional('archive', {
        type: 'string',
        demandOption: true,
        describe: 'The archive Instagram gave (format JSON): the .zip, or the folder it unpacks to',
      })
      .options(
        outputOptions({
          output: "Output root holding the account's exported snapshots (account=<id>/snapshot=<id>/)",
          stateDir: 'Run state and locks',
        }),
      )
      .options({
        account: {
          type: 'string',
          describe: 'The account id the archive belongs to (default: the only account under --output)',
        },
        'copy-media': {
          type: 'boolean',
          default: false,
          describe:
            "Copy the photos, videos and audio messages refer to into the snapshot's media/<sha256> store, with a media row each (else rows keep their paths inside the archive)",
        },
      })
      .options(DUCKDB_MEMORY_OPTION)
      .options(JSON_OPTION)
      .example(
        '$0 import-dyi instagram-shop-2026-12-01.zip',
        'then ig-export compact: the current view holds the texts',
      ),
  handler: async (args) => {
    const { importDyiCommand } = await import('../commands/import-dyi.js');
    return importDyiCommand(args);
  },
});
