import { defineCommand } from './define-command.js';
import { warnRenamed } from './shared-options.js';

export const sandboxDefinition = defineCommand({
  command: 'sandbox',
  describe: 'Serve the Graph API sandbox (paging, errors, throttling, the 20-message window) on a port',
  builder: (y) =>
    y
      .options({
        port: { type: 'number', default: 8787, describe: 'Port (0 = any free port)' },
        host: { type: 'string', default: '127.0.0.1', describe: 'Interface to listen on' },
        seed: { type: 'number', default: 1, describe: 'Data seed (same seed, same data)' },
        conversations: { type: 'number', default: 50, describe: 'Number of conversations' },
        'account-count': {
          type: 'number',
          default: 1,
          describe:
            'Serve this many accounts on one host, routed by token (sandbox-token-1, -2, …), each with its own data and limit',
        },
        // The old name, a count here but a list of names in export.
        accounts: { type: 'number', hidden: true },
        'rate-limit': {
          type: 'number',
          default: 2,
          describe: 'Calls per second per account before throttling (0 = off)',
        },
        'max-limit': {
          type: 'number',
          default: 100,
          describe: 'Largest page size served (limit= is clamped)',
        },
        'fault-rate': {
          type: 'number',
          default: 0,
          describe: 'Share of requests answered with an injected fault, spread over all kinds',
        },
        'paging-links': {
          choices: ['edge', 'node', 'until', 'cursors'] as const,
          default: 'edge' as const,
          describe:
            "Form of message lists' paging.next (Meta does not document it): the edge, the conversation node, until/__paging_token, or cursors only",
        },
        'messages-edge': {
          choices: ['serve', 'refuse'] as const,
          default: 'serve' as const,
          describe: 'Whether /<conversation>/messages is served or refused with code 100',
        },
        expansion: {
          choices: ['serve', 'ignore', 'refuse'] as const,
          default: 'serve' as const,
          describe: 'Message detail fields inside a messages{…} expansion: served, ignored, or refused',
        },
        'accept-token': {
          type: 'string',
          default: 'sandbox-token',
          describe: 'The access token the sandbox accepts (a sandbox value, not a secret)',
        },
        'webhook-url': {
          type: 'string',
          describe: 'Deliver a signed messages webhook here for every message added (try ig-export listen)',
        },
        replay: {
          type: 'string',
          describe:
            'Serve a recording made by export --record (its folder) instead of synthetic data, for a bug report or a test',
        },
        'dyi-archive': {
          type: 'string',
          describe:
            'Also write a "Download your information" archive of the sandbox\'s data to this .zip (and add a burst of messages for it to match); try ig-export import-dyi',
        },
        'webhook-secret': {
          type: 'string',
          default: 'sandbox-app-secret',
          describe: 'The app secret the sandbox signs webhooks with (a sandbox value, not a secret)',
        },
      })
      .example('$0 sandbox --port 8787 --fault-rate 0.1', 'a flaky sandbox for trying the client')
      .example('$0 sandbox --account-count 3', 'three accounts, for trying a fleet config')
      .example('$0 sandbox --replay ./recording', 'serve what a real account answered (export --record)')
      .example(
        '$0 sandbox --dyi-archive dyi.zip',
        'also write the account\'s "Download your information" archive',
      ),
  handler: async (args) => {
    const { sandboxCommand } = await import('../commands/sandbox.js');
    if (args.accounts !== undefined) warnRenamed('accounts', 'account-count', 'sandbox');
    return sandboxCommand({ ...args, 'account-count': args.accounts ?? args['account-count'] });
  },
});
