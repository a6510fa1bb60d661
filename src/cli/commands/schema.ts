import { TABLES } from '../../schema/tables.js';

/** `ig-export schema`: the output columns, as a Markdown table (the README's table is this output) or JSON. */
export function schemaCommand(args: { json: boolean }): number {
  if (args.json) {
    process.stdout.write(`${JSON.stringify(TABLES, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(`${renderSchemaMarkdown()}\n`);
  return 0;
}

export function renderSchemaMarkdown(): string {
  const parquetType = {
    string: 'STRING (UTF-8)',
    int32: 'INT32',
    boolean: 'BOOLEAN',
    timestamp: 'TIMESTAMP(ms, UTC)',
  };
  return TABLES.map((t) =>
    [
      `**${t.name}** (\`${t.name}.ndjson\`, \`${t.name}.parquet\`)`,
      '',
      '| column | type | null | meaning |',
      '|---|---|---|---|',
      ...t.columns.map(
        (c) => `| \`${c.name}\` | ${parquetType[c.type]} | ${c.nullable ? 'yes' : 'no'} | ${c.description} |`,
      ),
    ].join('\n'),
  ).join('\n\n');
}
