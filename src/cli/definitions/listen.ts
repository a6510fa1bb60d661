import { defineCommand } from './define-command.js';
import { outputOptions } from './shared-options.js';

export const listenDefinition = defineCommand({
  command: 'listen',
  describe:
    "Receive Meta's webhooks (messages, edits, unsends, reactions) and spool them for the next export",
  builder: (y) =>
    y
      .options({
        port: { type: 'number', default: 8788, describe: 'Port (0 = any free port)' },
        host: {
          type: 'string',
          default: '127.0.0.1',
          describe: 'Interface to listen on (keep it local: the HTTPS reverse proxy forwards to it)',
        },
        path: { type: 'string', default: '/webhook', describe: 'The callback path given to Meta' },
      })
      .options(
        outputOptions({
          output: 'Output root, for the default state dir (as for export)',
          stateDir: 'Where the spool goes: <state-dir>/webhooks/',
        }),
      )
      .options({
        'app-secret-file': {
          type: 'string',
          describe: 'File holding the Meta app secret (otherwise IG_APP_SECRET)',
        },
        'verify-token-file': {
          type: 'string',
          describe: 'File holding the subscription verify token (otherwise IG_WEBHOOK_VERIFY_TOKEN)',
        },
        'max-body-bytes': {
          type: 'number',
          default: 1_048_576,
          describe: 'Larger deliveries are refused with 413',
        },
        json: {
          type: 'boolean',
          default: false,
          describe: 'Print one JSON summary line on stdout when stopped',
        },
      })
      .example('IG_APP_SECRET=… IG_WEBHOOK_VERIFY_TOKEN=… $0 listen --port 8788', 'behind an HTTPS proxy'),
  handler: async (args) => {
    const { listenCommand } = await import('../commands/listen.js');
    return listenCommand(args);
  },
});
