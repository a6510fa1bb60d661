import { defineCommand } from './define-command.js';
import { GRAPH_CONNECTION_OPTIONS, JSON_OPTION, outputOptions } from './shared-options.js';

export const tokenDefinition = defineCommand({
  command: 'token <action>',
  describe: 'Token lifecycle: "token refresh" renews a long-lived token (valid 60 days) in its file',
  builder: (y) =>
    y
      .positional('action', { type: 'string', choices: ['refresh'], demandOption: true })
      .options({
        ...GRAPH_CONNECTION_OPTIONS,
        'token-file': { type: 'string', describe: 'The file holding the token; the new one replaces it' },
      })
      .options(
        outputOptions({
          output: 'Output root, for the default state dir',
          stateDir: 'Where the token expiry is recorded',
        }),
      )
      .options(JSON_OPTION)
      .example('$0 token refresh --token-file ~/.ig-token', 'renew the token, record its expiry'),
  handler: async (args) => {
    const { tokenCommand } = await import('../commands/token.js');
    return tokenCommand(args);
  },
});
