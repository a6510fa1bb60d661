import { defineCommand } from './define-command.js';
import { GRAPH_CONNECTION_OPTIONS, JSON_OPTION } from './shared-options.js';

export const webhookDefinition = defineCommand({
  command: 'webhook <action>',
  describe:
    'The account\'s webhook subscription: "webhook subscribe" (messages, reactions, edits, reads) or "webhook status"',
  builder: (y) =>
    y
      .positional('action', { type: 'string', choices: ['subscribe', 'status'], demandOption: true })
      .options({
        fields: {
          type: 'string',
          default: 'messages,message_reactions,message_edit,messaging_seen',
          describe: 'Webhook fields to subscribe to (comma-separated)',
        },
      })
      .options(GRAPH_CONNECTION_OPTIONS)
      .options(JSON_OPTION)
      .example(
        '$0 webhook subscribe --token-file ~/.ig-token',
        'after setting the callback URL in the Meta app',
      ),
  handler: async (args) => {
    const { webhookCommand } = await import('../commands/webhook.js');
    return webhookCommand(args);
  },
});
