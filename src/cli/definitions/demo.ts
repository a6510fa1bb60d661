import { defineCommand } from './define-command.js';
import { JSON_OPTION, warnRenamed } from './shared-options.js';

export const demoDefinition = defineCommand({
  command: 'demo',
  describe: 'Start the built-in Graph API sandbox and export it into ./output/demo',
  builder: (y) =>
    y
      .options({
        output: {
          type: 'string',
          default: 'output/demo',
          describe: 'Output root (its own, so the demo never mixes with real exports)',
        },
        seed: { type: 'number', default: 1, describe: 'Sandbox data seed' },
        conversations: { type: 'number', default: 40, describe: 'Conversations in the sandbox' },
        'rate-limit': {
          type: 'number',
          default: 50,
          describe:
            'Sandbox limit in calls per second; the export paces itself at 90 % of it (Meta allows 2)',
        },
        // The old name: it set the sandbox's limit, not the export's pace (--max-rps everywhere else).
        'max-rps': { type: 'number', alias: 'rps', hidden: true },
        full: {
          type: 'boolean',
          default: false,
          describe: 'Full export even if the output already holds the demo account',
        },
      })
      .options(JSON_OPTION)
      .example('$0 demo', 'export 40 synthetic conversations into ./output/demo'),
  handler: async (args) => {
    const { demoCommand } = await import('../commands/demo.js');
    const renamed = args['max-rps'];
    if (renamed !== undefined) warnRenamed('max-rps', 'rate-limit', 'demo');
    return demoCommand({ ...args, 'rate-limit': renamed ?? args['rate-limit'] });
  },
});
