import { createSandbox } from '../../sandbox/create-sandbox.js';
import { FAULT_KINDS } from '../../sandbox/faults.js';
import type { CommandResult } from '../exit-codes.js';

export interface SandboxArgs {
  port: number;
  host: string;
  seed: number;
  conversations: number;
  'rate-limit': number;
  'max-limit': number;
  'fault-rate': number;
  'accept-token': string;
}

/** `ig-export sandbox`: serves the Graph API sandbox until interrupted. */
export async function sandboxCommand(args: SandboxArgs): Promise<CommandResult> {
  const perKind = args['fault-rate'] / FAULT_KINDS.length;
  const sandbox = await createSandbox({
    port: args.port,
    host: args.host,
    seed: args.seed,
    conversations: args.conversations,
    maxLimit: args['max-limit'],
    token: args['accept-token'],
    rateLimit: { callsPerSecond: args['rate-limit'] },
    faults: { rates: Object.fromEntries(FAULT_KINDS.map((k) => [k, k === 'slow' ? 0 : perKind])) },
  });
  process.stdout.write(
    `Graph API sandbox listening on ${sandbox.url}\n` +
      `  account ${sandbox.data.account.userId} (@${sandbox.data.account.username}), ${sandbox.data.conversations.length} conversations\n` +
      `  it accepts the token given by --accept-token; export with:\n` +
      `  IG_ACCESS_TOKEN=<that token> ig-export export --base-url ${sandbox.url} --max-rps ${args['rate-limit'] ? args['rate-limit'] * 0.9 : 2}\n` +
      '  (90 % of the limit leaves room for timing jitter; one throttle blocks the account for a minute)\n',
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await sandbox.close();
  return { code: 0 };
}
