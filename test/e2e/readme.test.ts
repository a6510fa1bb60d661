import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { renderSchemaMarkdown } from '../../src/cli/commands/schema.js';
import { importArchive } from '../../src/pipeline/archive-import/import-archive.js';
import { writeDyiArchive } from '../../src/sandbox/dyi/dyi-archive-writer.js';
import { compactAccount } from '../../src/snapshots/compact.js';
import { snapshotStoreFor } from '../../src/snapshots/snapshot-store.js';
import { DEFAULT_PARQUET_OPTIONS } from '../../src/writers/parquet-writer.js';
import { exportSandbox, TEST_CUSTODY, tempDir } from '../helpers/export-options.js';
import { freePort } from '../helpers/free-port.js';
import { duckdbQuery } from '../helpers/parquet-readers.js';
import { REPO_ROOT, runCli, spawnCli, type CliResult, type RunningCli } from '../helpers/run-cli.js';
import { startSandbox, TEST_TOKEN } from '../helpers/sandbox-fixture.js';

const readme = (): Promise<string> => readFile(join(REPO_ROOT, 'README.md'), 'utf8');

describe('README stays true', () => {
  it('its column tables are the schema', async () => {
    const text = await readme();
    const block = /<!-- prettier-ignore-start -->\n([\s\S]*?)\n<!-- prettier-ignore-end -->/.exec(text)?.[1];
    expect(block?.trim()).toBe(renderSchemaMarkdown().trim());
  });

  it('its DuckDB queries run as written on real output', async () => {
    const sandbox = await startSandbox({ seed: 12, conversations: 8 });
    const out = await tempDir();
    const first = await exportSandbox(sandbox, out);
    sandbox.addMessages(sandbox.data.conversations[0]!.id, 3);
    await exportSandbox(
      sandbox,
      out,
      {},
      { clock: { now: () => Date.now() + 60_000, sleep: () => Promise.resolve() } },
    );
    const sql = /```sql\n([\s\S]*?)```/.exec(await readme())?.[1] ?? '';
    const statements = sql
      .split(';')
      .map((s) => s.replace(/--.*$/gm, '').trim())
      .filter((s) => s !== '');
    expect(statements).toHaveLength(4);
    await compactAccount(out, sandbox.data.account.userId, DEFAULT_PARQUET_OPTIONS, () => Date.now());
    const [current, all, archive, emoji] = await Promise.all(
      statements.map((s) => duckdbQuery(s.replaceAll("'output/", `'${out}/`))),
    );
    expect(current!.reduce((a, r) => a + Number(r['count_star()']), 0)).toBe(first.counts.messages + 3);
    // The second run is incremental: its snapshot holds the 3 new messages only.
    expect(all).toHaveLength(first.counts.messages + 3);
    expect(typeof all![0]!['account']).toBe('string'); // folder key kept as text
    expect(typeof all![0]!['account_id']).toBe('string');
    expect(archive).toHaveLength(first.counts.messages + 3);
    expect(new Set(archive!.map((r) => r['message_id'])).size).toBe(archive!.length);
    expect(emoji).toHaveLength(all!.filter((r) => r['message'] === '😀').length);
    expect(emoji!.every((r) => r['message'] === '😀')).toBe(true);
  });

  it('its cron lines run as written: nothing printed while all is well, one line (what cron mails) on exit 6', async () => {
    const sandbox = await startSandbox({ seed: 23, conversations: 6 });
    const dir = await tempDir();
    const out = join(dir, 'output');
    const logs = join(dir, 'log');
    await mkdir(logs);
    await writeFile(join(dir, 'token'), `${TEST_TOKEN}\n`, { mode: 0o600 });
    const example = JSON.parse(
      await readFile(join(REPO_ROOT, 'config/export.example.json'), 'utf8'),
    ) as object;
    const config = { ...example, 'token-file': join(dir, 'token'), output: out, 'base-url': sandbox.url };
    await writeFile(join(dir, 'export.json'), JSON.stringify({ ...config, 'max-rps': 1000 }));
    const cron = /```cron\n([\s\S]*?)```/.exec(await readme())?.[1] ?? '';
    const [exportLine, pruneLine] = cron
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('#'))
      .map((l) =>
        l
          .split(/\s+/)
          .slice(5) // the schedule
          .join(' ')
          .replace(
            'cd /opt/ig-export && npx ig-export',
            `"${process.execPath}" "${join(REPO_ROOT, 'dist/cli/main.js')}"`,
          )
          .replace('/etc/ig-export/export.json', join(dir, 'export.json'))
          .replace((example as { output: string }).output, out)
          .replaceAll('/var/log/ig-export', logs),
      );
    const { IG_ACCESS_TOKEN: _unset, ...env } = process.env;
    // Not execFileSync: the sandbox answers from this process.
    const sh = async (line: string): Promise<string> =>
      (await promisify(execFile)('sh', ['-c', line], { env, encoding: 'utf8' })).stdout;
    expect(await sh(exportLine!)).toBe('');
    sandbox.addMessages(sandbox.data.conversations[1]!.id, 30);
    expect(await sh(exportLine!)).toBe(`ig-export export exited 6: see ${logs}/runs.jsonl\n`);
    const runs = (await readFile(join(logs, 'runs.jsonl'), 'utf8')).trim().split('\n');
    expect(runs.map((l) => (JSON.parse(l) as { exitCode: number }).exitCode)).toEqual([0, 6]);
    expect(await sh(pruneLine!)).toBe('');
    const pruned = JSON.parse(await readFile(join(logs, 'prune.jsonl'), 'utf8')) as { exitCode: number };
    expect(pruned.exitCode).toBe(0);
    expect(existsSync(join(out, 'current', `account=${sandbox.data.account.userId}`, 'manifest.json'))).toBe(
      true,
    );
  });

  it('its deployment examples name one output folder: the listener spools where the exports and prune look', async () => {
    // listen's captures are merged only by an export with the same --output: with another, they are never used.
    const text = await readme();
    const configs = ['config/export.example.json', 'config/fleet.example.json'];
    const outputs = await Promise.all(
      configs.map(
        async (f) => (JSON.parse(await readFile(join(REPO_ROOT, f), 'utf8')) as { output: string }).output,
      ),
    );
    const service = /ExecStart=.* listen .*--output (\S+)/.exec(text)?.[1];
    const cronOutputs = [...(/```cron\n([\s\S]*?)```/.exec(text)?.[1] ?? '').matchAll(/--output (\S+)/g)].map(
      (m) => m[1],
    );
    expect(cronOutputs.length).toBeGreaterThan(0);
    expect(new Set([...outputs, service, ...cronOutputs])).toEqual(new Set([outputs[0]]));
  });

  it("its query of the archive across snapshots keeps the row the current view keeps, an archive's text included", async () => {
    // An export, then the account's archive imported (texts beyond the window), then a full export whose newer
    // snapshot lists those messages as outside_window again: the imported text must still win, as in the view.
    const sandbox = await startSandbox({ seed: 19, conversations: 10, archiveFixtures: true });
    const out = await tempDir();
    const accountId = (await exportSandbox(sandbox, out)).accountId;
    const zip = join(await tempDir(), 'dyi.zip');
    await writeDyiArchive(sandbox.data, zip);
    const imported = await importArchive({
      store: snapshotStoreFor(out),
      accountId,
      source: zip,
      parquet: DEFAULT_PARQUET_OPTIONS,
      now: () => Date.now() + 60_000,
      custody: TEST_CUSTODY,
      toolVersion: 'test',
    });
    expect(imported.rows.imported).toBeGreaterThan(0);
    await exportSandbox(
      sandbox,
      out,
      { run: { mode: 'full' } },
      { clock: { now: () => Date.now() + 120_000, sleep: () => Promise.resolve() } },
    );
    await compactAccount(out, accountId, DEFAULT_PARQUET_OPTIONS, () => Date.now() + 180_000);
    const sql = /```sql\n([\s\S]*?)```/.exec(await readme())?.[1] ?? '';
    const archiveQuery = sql
      .split(';')
      .map((s) => s.replace(/--.*$/gm, '').trim())
      .find((s) => s.includes('QUALIFY'))!;
    const key = (r: Record<string, unknown>): string =>
      JSON.stringify([r['message_id'], r['hydration_status'], r['message']]);
    const archive = (await duckdbQuery(archiveQuery.replaceAll("'output/", `'${out}/`))).map(key).sort();
    const view = (await duckdbQuery(`SELECT * FROM '${out}/current/account=${accountId}/messages.parquet'`))
      .map(key)
      .sort();
    expect(view.filter((k) => k.includes('"imported"')).length).toBe(imported.rows.imported);
    expect(archive).toEqual(view);
  });
});

/** The lines of the README's tour, without comments. */
async function tourCommands(): Promise<string[]> {
  const text = await readme();
  const tour = /<!-- tour:start -->\s*```sh\n([\s\S]*?)```\s*<!-- tour:end -->/.exec(text)?.[1] ?? '';
  return tour
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l !== '');
}

/** `VAR=value npx ig-export a b` → env and argv for the built CLI. */
function parseCommand(line: string, port: number): { env: Record<string, string>; args: string[] } {
  const words = line.replaceAll('8787', String(port)).replace(/&$/, '').trim().split(/\s+/);
  const env: Record<string, string> = {};
  while (/^[A-Z_]+=/.test(words[0] ?? '')) {
    const [k, v] = words.shift()!.split('=') as [string, string];
    env[k] = v;
  }
  expect(words.slice(0, 2)).toEqual(['npx', 'ig-export']);
  return { env, args: words.slice(2) };
}

describe('the README tour', () => {
  it('runs in the order written, each command doing what the README says', async () => {
    const cwd = await tempDir();
    const port = await freePort();
    const lines = await tourCommands();
    expect(lines.length).toBeGreaterThanOrEqual(6);
    let background: RunningCli | undefined;
    const results: Array<{ line: string; result: CliResult }> = [];
    try {
      for (const line of lines) {
        if (line === 'kill %1') {
          background?.child.kill('SIGTERM');
          expect((await background?.result)?.code).toBe(0);
          background = undefined;
          continue;
        }
        const { env, args } = parseCommand(line, port);
        if (line.endsWith('&')) {
          background = spawnCli(args, { env, cwd });
          await background.waitForStdout(/listening on/);
          continue;
        }
        const result = await runCli(args, { env, cwd });
        expect(result.code, `${line}\n${result.stderr}`).toBe(0);
        results.push({ line, result });
      }
    } finally {
      background?.child.kill('SIGKILL');
    }
    const find = (pattern: RegExp): CliResult => results.find((r) => pattern.test(r.line))!.result;
    // demo writes to its own folder; the sandbox export to ./output; both are the seed-1 account.
    const demoAccounts = (await readdir(join(cwd, 'output', 'demo'))).filter((n) => n.startsWith('account='));
    expect(demoAccounts).toHaveLength(1);
    const exported = JSON.parse(find(/--json/).stdout) as Record<string, unknown>;
    expect(exported).toMatchObject({
      status: 'complete',
      mode: 'full',
      exitCode: 0,
      counts: { conversations: 30 },
    });
    expect(`account=${String(exported['accountId'])}`).toBe(demoAccounts[0]);
    expect(find(/--fail-on-loss/).stdout).toMatch(
      /Nothing changed since the last run: no snapshot published/,
    );
    expect(find(/compact/).stdout).toMatch(/Current view of account \d+ from 1 snapshots/);
    await readFile(
      join(cwd, 'output', 'current', `account=${String(exported['accountId'])}`, 'messages.parquet'),
    );
    expect(find(/prune/).stdout).toMatch(/Would remove 0 snapshots/);
    // verify checks the snapshot, and the current view compact wrote just before.
    expect(find(/verify/).stdout).toMatch(
      /^OK {7}.*snapshot=.*\(5 files, manifest digest matches\)\nOK {7}.*current\/account=\d+ \(current view: 2 files match its manifest\)\nAll 1 snapshot and 1 current view intact\.\n$/,
    );
    expect(find(/schema/).stdout).toMatch(/\*\*messages\*\*/);
  });

  it('points at nothing outside the repository: a user clone has only what is committed', async () => {
    const files = execFileSync('git', ['ls-files'], { cwd: REPO_ROOT, encoding: 'utf8' })
      .split('\n')
      .filter((f) => /\.(md|ts|js|json)$/.test(f) && f !== 'package-lock.json');
    const offenders: string[] = [];
    const inside = (file: string, target: string): string | undefined => {
      const resolved = relative(REPO_ROOT, resolve(dirname(join(REPO_ROOT, file)), target));
      return resolved.startsWith('..') ? undefined : resolved;
    };
    for (const file of files) {
      const text = await readFile(join(REPO_ROOT, file), 'utf8');
      // Markdown links must lead to a committed file.
      const links = file.endsWith('.md') ? text.matchAll(/\]\(([^)#\s]+)\)/g) : [];
      for (const m of links) {
        const target = m[1]!;
        if (/^[a-z]+:/i.test(target)) continue; // a URL
        const resolved = inside(file, target);
        if (resolved === undefined || !existsSync(join(REPO_ROOT, resolved)))
          offenders.push(`${file}: ${target}`);
      }
      // Any relative path that climbs (in code, comments or prose) must stay inside the repository.
      for (const m of text.matchAll(/(?<![\w./])((?:\.\.\/)+[\w.-]+)/g)) {
        if (inside(file, m[1]!) === undefined) offenders.push(`${file}: ${m[1]!}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
