import { writeDyiArchive } from '../../sandbox/dyi/dyi-archive-writer.js';
import { createSandbox, type SandboxOverrides } from '../../sandbox/create-sandbox.js';
import { FAULT_KINDS, SLOW_FAULT_KINDS } from '../../sandbox/faults.js';
import type { PagingLinks } from '../../sandbox/graph-routes.js';
import { createSandboxFleet } from '../../sandbox/sandbox-fleet.js';
import { createReplayServer, ReplayFormatError, type ReplayServer } from '../../sandbox/replay-server.js';
import { UsageError, type CommandResult } from '../exit-codes.js';
import { inRange, PORT } from '../option-ranges.js';

export interface SandboxArgs {
  port: number;
  host: string;
  seed: number;
  conversations: number;
  'account-count': number;
  'rate-limit': number;
  'max-limit': number;
  'fault-rate': number;
  'accept-token': string;
  'paging-links': PagingLinks;
  'messages-edge': 'serve' | 'refuse';
  expansion: 'serve' | 'ignore' | 'refuse';
  'webhook-url'?: string | undefined;
  'webhook-secret': string;
  replay?: string | undefined;
  'dyi-archive'?: string | undefined;
}

/** `--dyi-archive`: the sandbox's "Download your information" archive, written once it has its data. */
async function writeArchive(data: Parameters<typeof writeDyiArchive>[0], path: string): Promise<string> {
  try {
    const { threads, messages } = await writeDyiArchive(data, path);
    return `  its "Download your information" archive (${threads} threads, ${messages} messages) is ${path}: export, then ig-export import-dyi ${path} --output <that folder>\n`;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST')
      throw new UsageError(`${path} already exists: remove it or choose another --dyi-archive path`);
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR')
      throw new UsageError(
        `cannot write ${path} (${code}): choose a --dyi-archive path in a writable folder`,
      );
    throw e;
  }
}

/** Starts a server; a port in use (or refused) is one line naming it, exit 2, as for `listen`. */
async function listening<T>(args: SandboxArgs, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL')
      throw new UsageError(
        `cannot listen on ${args.host}:${args.port} (${code}): another sandbox may be running there; stop it or choose another --port`,
      );
    throw e;
  }
}

function untilSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}

/** `ig-export sandbox`: serves the Graph API sandbox (one account, or `--account-count n`) until interrupted. */
export async function sandboxCommand(args: SandboxArgs): Promise<CommandResult> {
  inRange('port', args.port, PORT);
  inRange('seed', args.seed, { min: 0, max: 2 ** 31 - 1, integer: true });
  inRange('conversations', args.conversations, { min: 0, max: 100_000, integer: true });
  inRange('account-count', args['account-count'], { min: 1, max: 1_000, integer: true });
  inRange('rate-limit', args['rate-limit'], { min: 0, max: 10_000 });
  inRange('max-limit', args['max-limit'], { min: 1, max: 10_000, integer: true });
  inRange('fault-rate', args['fault-rate'], { min: 0, max: 1 });
  if (args.replay !== undefined) return replay(args.replay, args);
  if (args['dyi-archive'] !== undefined && args['account-count'] > 1)
    throw new UsageError('--dyi-archive writes the archive of one account: leave out --account-count');
  const fastKinds = FAULT_KINDS.filter((k) => !SLOW_FAULT_KINDS.includes(k));
  const perKind = args['fault-rate'] / fastKinds.length;
  const shared: SandboxOverrides = {
    conversations: args.conversations,
    maxLimit: args['max-limit'],
    pagingLinks: args['paging-links'],
    messagesEdge: args['messages-edge'],
    expansion: args.expansion,
    rateLimit: { callsPerSecond: args['rate-limit'] },
    faults: { rates: Object.fromEntries(fastKinds.map((k) => [k, perKind])) },
  };
  return args['account-count'] > 1 ? serveFleet(args, shared) : serveOne(args, shared);
}

/** The banner's pace and limit: 90 % of the limit leaves room for timing jitter; without one, a brisk pace. */
function paceOf(args: SandboxArgs): { rps: number; limit: string } {
  return {
    rps: args['rate-limit'] ? Math.round(args['rate-limit'] * 0.9 * 100) / 100 : 100,
    limit:
      args['rate-limit'] === 0
        ? 'no rate limit (--rate-limit 0)'
        : `a limit of ${args['rate-limit']} calls/s per account; one throttle blocks it for a minute`,
  };
}

async function serveFleet(args: SandboxArgs, shared: SandboxOverrides): Promise<CommandResult> {
  const { rps, limit } = paceOf(args);
  const fleet = await listening(args, () =>
    createSandboxFleet(
      Array.from({ length: args['account-count'] }, (_, i) => ({ ...shared, seed: args.seed + i })),
      { port: args.port, host: args.host },
    ),
  );
  const entries = fleet.accounts.map((s, i) => ({
    name: s.data.account.username,
    account: s.data.account.userId,
    token_env: `IG_TOKEN_SHOP${i + 1}`,
  }));
  process.stdout.write(
    `Graph API sandbox with ${args['account-count']} accounts listening on ${fleet.url}\n` +
      fleet.accounts
        .map(
          (s, i) =>
            `  account ${s.data.account.userId} (@${s.data.account.username}): token ${s.options.token}, ` +
            `${s.data.conversations.length} conversations (seed ${s.options.seed}) → IG_TOKEN_SHOP${i + 1}\n`,
        )
        .join('') +
      `  ${limit}\n` +
      '  export them all with a config file such as (its own output folder, so it never mixes with another sandbox):\n' +
      `  ${JSON.stringify({ 'base-url': fleet.url, 'max-rps': rps, output: `output/sandbox-fleet-seed-${args.seed}`, accounts: entries })}\n` +
      `  ${fleet.accounts.map((s, i) => `IG_TOKEN_SHOP${i + 1}=${s.options.token}`).join(' ')} ig-export export --config <that file>\n`,
  );
  await untilSignal();
  await fleet.close();
  return { code: 0 };
}

async function serveOne(args: SandboxArgs, shared: SandboxOverrides): Promise<CommandResult> {
  const { rps, limit } = paceOf(args);
  const webhookUrl = args['webhook-url'];
  const sandbox = await listening(args, () =>
    createSandbox({
      ...shared,
      port: args.port,
      host: args.host,
      seed: args.seed,
      token: args['accept-token'],
      archiveFixtures: args['dyi-archive'] !== undefined,
      webhook:
        webhookUrl === undefined
          ? undefined
          : {
              url: webhookUrl,
              appSecret: args['webhook-secret'],
              retries: 8,
              retryDelayMs: 500,
              duplicateRate: 0.05,
              mid: 'graph-id',
            },
    }),
  );
  let archiveLine = '';
  if (args['dyi-archive'] !== undefined) {
    try {
      archiveLine = await writeArchive(sandbox.data, args['dyi-archive']);
    } catch (e) {
      await sandbox.close();
      throw e;
    }
  }
  process.stdout.write(
    `Graph API sandbox listening on ${sandbox.url}\n` +
      `  account ${sandbox.data.account.userId} (@${sandbox.data.account.username}), ${sandbox.data.conversations.length} conversations, seed ${args.seed} (same seed, same data)\n` +
      `  it accepts the token ${sandbox.options.token} (a sandbox value, not a secret; --accept-token changes it); ${limit}\n` +
      '  export it into a folder of its own (another seed or sandbox in the same folder would look like one account):\n' +
      `  IG_ACCESS_TOKEN=${sandbox.options.token} ig-export export --base-url ${sandbox.url} --max-rps ${rps} --output output/sandbox-seed-${args.seed}\n` +
      archiveLine +
      (webhookUrl === undefined
        ? ''
        : `  every message added (curl -X POST -d '{"count": 60}' ${sandbox.url}/__sandbox/add-messages) is delivered to ${webhookUrl}, signed with --webhook-secret\n`),
  );
  await untilSignal();
  await sandbox.webhooks?.flush();
  await sandbox.close();
  return { code: 0 };
}

/** `sandbox --replay <dir>`: a recording made by `export --record`, served back until interrupted. */
async function replay(dir: string, args: SandboxArgs): Promise<CommandResult> {
  let server: ReplayServer;
  try {
    server = await listening(args, () => createReplayServer(dir, { port: args.port, host: args.host }));
  } catch (e) {
    if (e instanceof ReplayFormatError) throw new UsageError(e.message);
    throw e;
  }
  process.stdout.write(
    `Replaying ${server.exchanges} recorded exchanges from ${dir} on ${server.url}\n` +
      `  export with: IG_ACCESS_TOKEN=replay ig-export export --base-url ${server.url} --output <a new folder>\n` +
      '  (any token is accepted; a request the recording has no answer for gets a Graph error and is counted)\n',
  );
  await untilSignal();
  await server.close();
  return {
    code: 0,
    summary: {
      status: 'complete',
      exchanges: server.exchanges,
      served: server.served,
      misses: server.misses.length,
    },
  };
}
