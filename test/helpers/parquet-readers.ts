import { DuckDBInstance } from '@duckdb/node-api';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';

/** DuckDB, one of the two independent readers the tests check our Parquet with. */
export async function duckdbQuery(sql: string): Promise<Array<Record<string, unknown>>> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjectsJS();
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** hyparquet, the second, pure-JS reader: rows and the file's logical types. */
export async function hyparquetRead(
  path: string,
): Promise<{ rows: Array<Record<string, unknown>>; schema: unknown }> {
  const file = await asyncBufferFromFile(path);
  const metadata = await parquetMetadataAsync(file);
  const rows = (await parquetReadObjects({ file, compressors })) as Array<Record<string, unknown>>;
  return { rows, schema: metadata.schema };
}
