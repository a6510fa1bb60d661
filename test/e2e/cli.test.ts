import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/pipeline/run-export.js';
import { MESSAGE_COLUMNS } from '../../src/schema/tables.js';
import { tempDir } from '../helpers/export-options.js';
import { byKey, expectSnapshotEqualsSandbox, readNdjson } from '../helpers/expected-rows.js';
import { duckdbQuery, hyparquetRead } from '../helpers/parquet-readers.js';
import { allFiles, exportArgs, runCli, spawnCli } from '../helpers/run-cli.js';
import { startSandbox, TEST_TOKEN } from '../helpers/sandbox-fixture.js';

interface JsonSummary {
  status: string;
  snapshotDir: string;
  accountId: string;
  counts: Record<string, number>;
  calls: number;
}

function parseSummary(stdout: string): JsonSummary {
  const lines = stdout.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1); // --json prints exactly one line
  return JSON.parse(lines[0]!) as JsonSummary;
}

/** An export of an 80-conversation sandbox at `maxRps`, spawned for a test to interrupt. */
async function exportToInterrupt(maxRps: string) {
  const sandbox = await startSandbox({ conversations: 80 });
  const out = await tempDir();
  const run = spawnCli(
    ['export', '--base-url', sandbox.url, '--output', out, '--max-rps', maxRps, '--json'],
    {
      env: { IG_ACCESS_TOKEN: TEST_TOKEN },
    },
  );
  return { sandbox, out, run };
}

describe('ig-export CLI end to end', () => {
  it('export: the snapshot equals the sandbox, Parquet reads back in two readers, and the token is nowhere', async () => {
    const sandbox = await startSandbox({
      seed: 13,
      conversations: 60,
      messageCounts: [650, 0, 21, 20, 19, 1],
    });
    const out = await tempDir();
    const result = await runCli(exportArgs(sandbox.url, out, '--log-level', 'debug'), {
      env: { IG_ACCESS_TOKEN: TEST_TOKEN },
    });
    expect(result.stderr).not.toMatch(/"level":50/);
    // stderr is not a terminal here (as under cron): plain log lines, no live frame.
    expect(result.stderr).not.toMatch(/ETA/);
    expect(result.stderr).not.toContain('\u001b[');
    expect(result.code).toBe(0);
    const summary = parseSummary(result.stdout);
    expect(summary).toMatchObject({ status: 'complete', accountId: sandbox.data.account.userId });
    expect(summary.calls).toBe(sandbox.stats.requests.length);
    expect(summary.snapshotDir).toBe(
      join(out, `account=${sandbox.data.account.userId}`, summary.snapshotDir.split('/').pop()!),
    );

    // Every conversation, every message id, every hydrated field of the 20 most recent.
    const messages = await expectSnapshotEqualsSandbox(summary.snapshotDir, sandbox);
    expect(Math.max(...sandbox.stats.hydrations.map((h) => h.position))).toBeLessThan(20);

    // DuckDB: types, and the Parquet holds exactly the NDJSON's rows.
    const parquet = join(summary.snapshotDir, 'messages.parquet');
    const ndjson = join(summary.snapshotDir, 'messages.ndjson');
    const types = await duckdbQuery(
      `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${parquet}', hive_partitioning = false))`,
    );
    expect(Object.fromEntries(types.map((t) => [t['column_name'], t['column_type']]))).toMatchObject({
      created_time: 'TIMESTAMP WITH TIME ZONE',
      extracted_at: 'TIMESTAMP WITH TIME ZONE',
      position: 'INTEGER',
      is_unsupported: 'BOOLEAN',
      message: 'VARCHAR',
    });
    // NDJSON read with the schema's types (timestamps as text, compared with the Parquet's formatted the same way).
    const duckType = {
      string: 'VARCHAR',
      int32: 'INTEGER',
      boolean: 'BOOLEAN',
      timestamp: 'VARCHAR',
      string_list: 'VARCHAR[]',
      json: 'JSON',
    };
    const ndjsonColumns = MESSAGE_COLUMNS.map((c) => `${c.name}: '${duckType[c.type]}'`).join(', ');
    const diff = await duckdbQuery(`
      WITH p AS (SELECT * REPLACE (strftime(created_time AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ') AS created_time,
                                   strftime(extracted_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ') AS extracted_at)
                 FROM read_parquet('${parquet}', hive_partitioning = false)),
           j AS (SELECT * REPLACE (raw::VARCHAR AS raw) FROM read_json('${ndjson}', format = 'newline_delimited',
                 hive_partitioning = false, columns = {${ndjsonColumns}}))
      SELECT (SELECT count(*) FROM (SELECT * FROM p EXCEPT ALL SELECT * FROM j)) AS only_parquet,
             (SELECT count(*) FROM (SELECT * FROM j EXCEPT ALL SELECT * FROM p)) AS only_ndjson,
             (SELECT count(*) FROM p) AS rows`);
    expect(diff).toEqual([{ only_parquet: 0n, only_ndjson: 0n, rows: BigInt(messages.length) }]);

    // hyparquet, a second independent reader: same rows, created_time a UTC timestamp.
    const { rows, schema } = await hyparquetRead(parquet);
    expect(rows).toHaveLength(messages.length);
    const created = (schema as Array<{ name: string; logical_type?: unknown }>).find(
      (c) => c.name === 'created_time',
    );
    expect(created?.logical_type).toMatchObject({ type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' });
    // Every value, emoji, RTL, CJK, "" and null included, as the NDJSON has it.
    const asNdjson = (r: Record<string, unknown>): Record<string, unknown> => ({
      ...r,
      raw: JSON.parse(r['raw'] as string) as unknown,
      created_time: (r['created_time'] as Date).toISOString(),
      extracted_at: (r['extracted_at'] as Date).toISOString(),
    });
    expect(byKey(rows.map(asNdjson), 'message_id')).toEqual(byKey(messages, 'message_id'));
    expect(messages.some((m) => m['message'] === '')).toBe(true);
    expect(messages.some((m) => /[\u0590-\u06ff]/.test(String(m['message'])))).toBe(true);

    // The conversations table too, in both readers.
    const convParquet = join(summary.snapshotDir, 'conversations.parquet');
    const convTypes = await duckdbQuery(
      `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${convParquet}', hive_partitioning = false))`,
    );
    expect(Object.fromEntries(convTypes.map((t) => [t['column_name'], t['column_type']]))).toMatchObject({
      updated_time: 'TIMESTAMP WITH TIME ZONE',
      message_count: 'INTEGER',
      snapshot_message_rows: 'INTEGER',
      hydrated_count: 'INTEGER',
      participant_username: 'VARCHAR',
    });
    const convRows = await hyparquetRead(convParquet);
    const conversations = await readNdjson(join(summary.snapshotDir, 'conversations.ndjson'));
    expect(
      byKey(convRows.rows, 'conversation_id').map((r) => [r['conversation_id'], r['message_count']]),
    ).toEqual(byKey(conversations, 'conversation_id').map((r) => [r['conversation_id'], r['message_count']]));

    // The token is in no output, log or file.
    expect(result.stdout + result.stderr).not.toContain(TEST_TOKEN);
    for (const file of await allFiles(out)) expect(file.bytes.includes(TEST_TOKEN), file.path).toBe(false);
  });

  it('demo: runs the main job on the built-in sandbox and exits 0', async () => {
    const out = await tempDir();
    const result = await runCli([
      'demo',
      '--output',
      out,
      '--conversations',
      '15',
      '--rps',
      '200',
      '--json',
      '--log-level',
      'warn',
    ]);
    expect(result.code).toBe(0);
    const summary = parseSummary(result.stdout);
    expect(summary.status).toBe('complete');
    expect(summary.counts['conversations']).toBe(15);
    const counted = await duckdbQuery(`SELECT count(*) AS n FROM '${summary.snapshotDir}/messages.parquet'`);
    expect(counted).toEqual([{ n: BigInt(summary.counts['messages']!) }]);
  });

  it('reads the token from --token-file', async () => {
    const sandbox = await startSandbox({ conversations: 3 });
    const dir = await tempDir();
    await writeFile(join(dir, 'token'), `${TEST_TOKEN}\n`);
    const result = await runCli([
      'export',
      '--base-url',
      sandbox.url,
      '--output',
      dir,
      '--max-rps',
      '500',
      '--token-file',
      join(dir, 'token'),
      '--json',
    ]);
    expect(result.code).toBe(0);
    expect(parseSummary(result.stdout).counts['conversations']).toBe(3);
  });

  it('never takes the token from argv (exit 2) and says where to put it', async () => {
    const result = await runCli(['export', '--token', TEST_TOKEN]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/IG_ACCESS_TOKEN/);
    expect(result.stderr + result.stdout).not.toContain(TEST_TOKEN);
  });

  it('refuses a token holding whitespace or control characters, or wrapped in quotes, from the environment or a file, before any call and without showing it', async () => {
    const dir = await tempDir();
    const cases = [
      [
        'IGAApasted twice',
        'IGAApasted-twice\nIGAApasted-twice\n',
        /holds whitespace or control characters: it must hold the token alone, on one line/,
      ],
      [
        "'IGAAquoted-token'",
        '"IGAAquoted-token"\n',
        /is wrapped in quotes: remove them, the token is what is between/,
      ],
    ] as const;
    for (const [envToken, fileContent, message] of cases) {
      await writeFile(join(dir, 'token'), fileContent);
      for (const [args, env] of [
        [['export', '--json'], { IG_ACCESS_TOKEN: envToken }],
        [['export', '--json', '--token-file', join(dir, 'token')], {}],
      ] as const) {
        // No sandbox: a call would fail as unreachable (exit 7), not as this usage error.
        const result = await runCli([...args, '--base-url', 'http://127.0.0.1:9'], { env });
        expect(result.code).toBe(2);
        expect(result.stderr).toMatch(message);
        expect(result.stderr + result.stdout).not.toMatch(/IGAApasted|IGAAquoted/);
      }
    }
  });

  it('a token file that is missing, a folder or empty: exit 2, one line saying what to fix', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'empty'), '\n');
    for (const [file, fix] of [
      [join(dir, 'missing'), /\(ENOENT\): no such file; check the path/],
      [dir, /\(EISDIR\): that is a folder; give the file that holds the secret/],
      [join(dir, 'empty'), /is empty: put the secret in it, alone on one line/],
    ] as const) {
      const result = await runCli(['export', '--token-file', file, '--json']);
      expect(result.code).toBe(2);
      expect(result.stderr.split('\n')[0]).toMatch(fix);
      expect((JSON.parse(result.stdout.trim()) as { error: { message: string } }).error.message).toMatch(fix);
    }
  });

  it('a command whose work never settles (nothing left to wait for) exits 1 with one line, not 0 with silence', async () => {
    // The probe's full disk once left the NDJSON writer waiting for a 'close' that never came: the event loop emptied
    // and the process ended with 0 and no output. Played here by a folder listing that never answers.
    const dir = await tempDir();
    const preload = join(dir, 'stall-readdir.mjs');
    await writeFile(
      preload,
      [
        "import { createRequire, syncBuiltinESMExports } from 'node:module';",
        "createRequire(import.meta.url)('node:fs').promises.readdir = () => new Promise(() => {});",
        'syncBuiltinESMExports();',
      ].join('\n'),
    );
    const result = await runCli(['verify', dir, '--json'], { env: { NODE_OPTIONS: `--import=${preload}` } });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^ig-export: unexpected error: the command stopped before it finished/),
    ]);
    expect(JSON.parse(result.stdout.trim())).toMatchObject({ status: 'failed', exitCode: 1 });
  });

  it('exits 2 without a token, on unknown flags and on config-file errors', async () => {
    expect((await runCli(['export'])).code).toBe(2);
    expect((await runCli(['export', '--max-rsp', '2'], { env: { IG_ACCESS_TOKEN: 'x' } })).code).toBe(2);
    const dir = await tempDir();
    await writeFile(join(dir, 'bad.json'), JSON.stringify({ 'page-size': 'big' }));
    const bad = await runCli(['export', '--config', join(dir, 'bad.json')], {
      env: { IG_ACCESS_TOKEN: 'x' },
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/page-size/);
  });

  it('a bad token exits 3 within seconds, names the problem and the fix, and shows no token', async () => {
    const sandbox = await startSandbox({ conversations: 3 });
    const wrong = 'IGAAwrongWRONGwrong-0123456789';
    const out = await tempDir();
    const result = await runCli(['export', '--base-url', sandbox.url, '--output', out], {
      env: { IG_ACCESS_TOKEN: wrong },
    });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/access token is invalid.*IG_ACCESS_TOKEN/);
    expect(result.stdout + result.stderr).not.toContain(wrong);
    expect(sandbox.stats.requests).toHaveLength(1);
    expect(await readdir(out)).toEqual([]);
  });

  it('a token expiring mid-run exits 3 with a clear message; what was done is published as partial', async () => {
    const sandbox = await startSandbox({ seed: 4, conversations: 10, faults: { tokenExpiresAfter: 30 } });
    const out = await tempDir();
    const result = await runCli(
      ['export', '--base-url', sandbox.url, '--output', out, '--max-rps', '500', '--json'],
      {
        env: { IG_ACCESS_TOKEN: TEST_TOKEN },
      },
    );
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/expired on .*create a new long-lived token/);
    expect(parseSummary(result.stdout).status).toBe('partial');
    expect(result.stdout + result.stderr).not.toContain(TEST_TOKEN);
  });

  it('exits 4 with a partial snapshot when items still fail after retries, and the manifest lists them', async () => {
    const sandbox = await startSandbox({
      seed: 6,
      conversations: 10,
      faults: { rates: { transient_500: 0.3 } },
    });
    const out = await tempDir();
    const result = await runCli(
      ['export', '--base-url', sandbox.url, '--output', out, '--max-rps', '1000', '--retries', '0', '--json'],
      { env: { IG_ACCESS_TOKEN: TEST_TOKEN } },
    );
    expect(result.code).toBe(4);
    const summary = parseSummary(result.stdout);
    expect(summary.status).toBe('partial');
    const manifest = JSON.parse(
      await readFile(join(summary.snapshotDir, 'manifest.json'), 'utf8'),
    ) as Manifest;
    expect(manifest.status).toBe('partial');
    expect(manifest.counts.failed).toBe(summary.counts['failed']);
    expect(manifest.failures_total).toBeGreaterThan(0);
    expect(manifest.failures.length).toBe(manifest.failures_total);
    expect(manifest.failures[0]).toMatchObject({ kind: 'transient', reason: 'code_2' });
    const failedRows = (await readNdjson(join(summary.snapshotDir, 'messages.ndjson'))).filter(
      (r) => r['hydration_status'] === 'failed',
    );
    expect(failedRows.length).toBe(summary.counts['failed']);
  });

  it('SIGINT stops the run cleanly: a partial snapshot, exit 4, no temporary directory left', async () => {
    const { sandbox, out, run } = await exportToInterrupt('40');
    await run.waitForStderr(/progress|export of account/);
    run.child.kill('SIGINT');
    const result = await run.result;
    expect(result.code, result.stderr).toBe(4);
    const summary = parseSummary(result.stdout);
    const manifest = JSON.parse(
      await readFile(join(summary.snapshotDir, 'manifest.json'), 'utf8'),
    ) as Manifest;
    expect(manifest).toMatchObject({ status: 'partial', stop_reason: 'cancelled' });
    const accountDir = join(out, `account=${sandbox.data.account.userId}`);
    expect((await readdir(accountDir)).filter((n) => n.startsWith('.'))).toEqual([]);
    expect(manifest.files['messages.ndjson']?.rows).toBe(summary.counts['messages']);
  });

  it('a second SIGINT after the partial snapshot is published keeps the exit code the summary gives (4, not 130)', async () => {
    const { run } = await exportToInterrupt('40');
    await run.waitForStderr(/export of account/);
    run.child.kill('SIGINT');
    // The summary is printed some milliseconds before the process ends: signals keep coming until it has ended.
    await run.waitForStdout(/"status":"partial"/);
    const again = setInterval(() => run.child.kill('SIGINT'), 2);
    const result = await run.result.finally(() => clearInterval(again));
    expect(result.code, result.stderr).toBe(4);
    expect(parseSummary(result.stdout)).toMatchObject({ status: 'partial', exitCode: 4 });
  });

  it('a second SIGINT exits at once', async () => {
    const { run } = await exportToInterrupt('5');
    await run.waitForStderr(/export of account/);
    run.child.kill('SIGINT');
    await run.waitForStderr(/SIGINT received/);
    run.child.kill('SIGINT');
    const result = await run.result;
    expect(result.code).toBe(130);
    expect(result.stderr).toMatch(/second SIGINT: exiting now/);
    expect(parseSummary(result.stdout)).toMatchObject({ status: 'failed', exitCode: 130 });
  });
});
