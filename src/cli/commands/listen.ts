import { join } from 'node:path';
import { systemClock } from '../../clock.js';
import { startWebhookServer } from '../../listener/webhook-server.js';
import { APP_SECRET_ENV, knownSecrets, readSecret, VERIFY_TOKEN_ENV } from '../access-token.js';
import { createCliLogger, type LogLevel } from '../cli-logger.js';
import { UsageError, type CommandResult } from '../exit-codes.js';
import { inRange, PORT } from '../option-ranges.js';
import { stateDirOf } from '../definitions/shared-options.js';

export interface ListenArgs {
  port: number;
  host: string;
  path: string;
  output: string;
  'state-dir'?: string | undefined;
  'app-secret-file'?: string | undefined;
  'verify-token-file'?: string | undefined;
  'max-body-bytes': number;
  json: boolean;
  'log-level': LogLevel;
}

/**
 * `ig-export listen`: receives Meta's webhooks until SIGINT/SIGTERM and spools them per account in the state
 * directory that `export` runs read.
 */
export async function listenCommand(args: ListenArgs): Promise<CommandResult> {
  inRange('port', args.port, PORT);
  // At least 1 KiB (Meta's smallest delivery is a few hundred bytes), at most 100 MiB (it is buffered to be signed).
  inRange('max-body-bytes', args['max-body-bytes'], { min: 1024, max: 100 * 1024 * 1024, integer: true });
  if (!args.path.startsWith('/')) throw new UsageError(`--path ${args.path} must start with "/"`);
  const appSecret = await readSecret(
    args['app-secret-file'],
    '--app-secret-file',
    APP_SECRET_ENV,
    'the Meta app secret',
  );
  const verifyToken = await readSecret(
    args['verify-token-file'],
    '--verify-token-file',
    VERIFY_TOKEN_ENV,
    'the webhook verify token',
  );
  const logger = createCliLogger(args['log-level'], () => knownSecrets());
  const stateDir = stateDirOf(args);
  const server = await startWebhookServer({
    port: args.port,
    host: args.host,
    path: args.path,
    stateDir,
    appSecret,
    verifyToken,
    maxBodyBytes: args['max-body-bytes'],
    logger,
    now: () => systemClock.now(),
  }).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'EADDRINUSE' || e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL')
      throw new UsageError(
        `cannot listen on ${args.host}:${args.port} (${e.code}): choose another --port or --host`,
      );
    throw e;
  });
  logger.info(`listening for Meta webhooks on ${server.url}; spooling into ${join(stateDir, 'webhooks')}`);
  if (!['127.0.0.1', '::1', 'localhost'].includes(args.host))
    logger.warn(
      `listening on ${args.host}: reachable from other machines, not only from your HTTPS reverse proxy; ` +
        'signatures are still checked, but keep --host 127.0.0.1 unless the proxy runs elsewhere',
    );
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  logger.info(`${signal} received: finishing deliveries in flight and stopping`);
  await server.close();
  logger.info('stopped', { ...server.stats });
  return { code: 0, summary: { status: 'complete', ...server.stats } };
}
