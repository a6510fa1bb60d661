import { TABLES } from '../../schema/tables.js';
import type { CommandResult } from '../exit-codes.js';

/** `ig-export schema`: the output columns, as a Markdown table (the README's table is this output) or JSON. */
export function schemaCommand(args: { json: boolean }): CommandResult {
  // With --json the schema itself is the one JSON line.
  if (args.json) process.stdout.write(`${JSON.stringify(TABLES)}\n`);
  else process.stdout.write(`${renderSchemaMarkdown()}\n`);
  return { code: 0 };
}

export function renderSchemaMarkdown(): string {
  const parquetType = {
    string: 'STRING (UTF-8)',
    int32: 'INT32',
    boolean: 'BOOLEAN',
    timestamp: 'TIMESTAMP(ms, UTC)',
    string_list: 'LIST<STRING>',
    json: 'STRING (JSON text; an object in NDJSON)',
  };
  return TABLES.map((t) =>
    [
      `**${t.name}** (\`${t.name}.ndjson\`, \`${t.name}.parquet\`${t.name === 'media' ? '; only with `--download-media`' : ''})`,
      '',
      '| column | type | null | meaning |',
      '|---|---|---|---|',
      ...t.columns.map(
        (c) =>
          `| \`${c.name}\` | ${parquetType[c.type]} | ${c.nullable ? 'yes' : 'no'} | ${c.description.replaceAll('|', '\\|')} |`,
      ),
    ].join('\n'),
  ).join('\n\n');
}
