import { defineCommand } from './define-command.js';
import { GRAPH_CONNECTION_OPTIONS, JSON_OPTION, outputOptions } from './shared-options.js';

export const probeDefinition = defineCommand({
  command: 'probe',
  describe:
    'Check on a real account every Graph API behaviour ig-export guesses (at most 15 calls) and report what it saw',
  builder: (y) =>
    y
      .options({ account: { type: 'string', describe: 'Account id, or me (default me)' } })
      .options(GRAPH_CONNECTION_OPTIONS)
      .options(
        outputOptions({
          output: 'Output root, for the default state dir',
          stateDir: 'Where the report probe-<time>.json goes',
        }),
      )
      .options({ 'max-rps': { type: 'number', describe: 'Calls per second (default 2, as for export)' } })
      .options(JSON_OPTION)
      .example('$0 probe --token-file ~/.ig-token', 'before the first export of a real account'),
  handler: async (args) => {
    const { probeCommand } = await import('../commands/probe.js');
    return probeCommand(args);
  },
});
