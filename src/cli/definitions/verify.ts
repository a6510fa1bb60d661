import { defineCommand } from './define-command.js';
import { JSON_OPTION } from './shared-options.js';

export const verifyDefinition = defineCommand({
  command: 'verify <snapshots..>',
  describe: "Check snapshots against their manifests: every file's hash and rows, the manifest's own digest",
  builder: (y) =>
    y
      .positional('snapshots', {
        type: 'string',
        array: true,
        demandOption: true,
        describe:
          'Snapshot folders (snapshot=<id>), or account folders or output roots to check all their snapshots',
      })
      .options(JSON_OPTION)
      .example('$0 verify output/account=1784…/snapshot=20261129T101500.000Z', 'check one snapshot')
      .example('$0 verify output/account=1784… --json', 'check every snapshot of an account'),
  handler: async (args) => {
    const { verifyCommand } = await import('../commands/verify.js');
    return verifyCommand({ snapshots: args.snapshots, json: args.json, 'log-level': args['log-level'] });
  },
});
