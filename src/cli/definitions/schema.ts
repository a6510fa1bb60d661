import { defineCommand } from './define-command.js';

export const schemaDefinition = defineCommand({
  command: 'schema',
  describe: 'Print the output columns (Markdown, or JSON with --json)',
  builder: (y) =>
    y
      .options({ json: { type: 'boolean', default: false, describe: 'JSON instead of Markdown' } })
      .example('$0 schema', 'the column tables of messages and conversations'),
  handler: async (args) => {
    const { schemaCommand } = await import('../commands/schema.js');
    return schemaCommand(args);
  },
});
