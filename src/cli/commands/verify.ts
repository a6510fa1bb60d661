import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  accountDir,
  accountsIn,
  MANIFEST_FILE,
  snapshotDirIn,
  snapshotIdsIn,
} from '../../snapshots/layout.js';
import { refuseLink } from '../../output-path.js';
import { verifyCurrentView, verifySnapshot, type VerifyResult } from '../../snapshots/verify.js';
import { createCliLogger, type LogLevel } from '../cli-logger.js';
import { ExitCode, InterruptedError, UsageError, type CommandResult } from '../exit-codes.js';
import { withStopSignals } from '../stop-signals.js';

export interface VerifyArgs {
  snapshots: string[];
  json: boolean;
  'log-level': LogLevel;
}

interface Target {
  kind: 'snapshot' | 'view';
  dir: string;
}

const exists = (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false,
  );

/** The current views (`current/account=<id>/`) under an output root. */
async function currentViewsIn(outputRoot: string): Promise<string[]> {
  const current = join(outputRoot, 'current');
  const views: string[] = [];
  for (const id of await accountsIn(current)) {
    const dir = accountDir(current, id);
    refuseLink(dir);
    if (await exists(join(dir, MANIFEST_FILE))) views.push(dir);
  }
  return views;
}

/** What to check for one path given: a snapshot, a current view, an account's snapshots, or all of an output root. */
async function targetsOf(path: string): Promise<Target[]> {
  if (/(^|[\\/])current[\\/]account=[^\\/]+[\\/]?$/.test(path) && (await exists(join(path, MANIFEST_FILE))))
    return [{ kind: 'view', dir: path }];
  const snapshots = (await snapshotDirsOf(path)).map((dir): Target => ({ kind: 'snapshot', dir }));
  const views = (await currentViewsIn(path)).map((dir): Target => ({ kind: 'view', dir }));
  return [...snapshots, ...views];
}

/** A snapshot directory as given, or every snapshot of an account directory or of an output root. */
async function snapshotDirsOf(path: string): Promise<string[]> {
  const info = await stat(path).catch(() => undefined);
  if (info && !info.isDirectory())
    throw new UsageError(
      `${path} is a file; verify checks a whole snapshot: give the folder that holds it (${dirname(path)})`,
    );
  if (!info)
    throw new UsageError(
      `${path}: no such folder; give a snapshot folder (account=<id>/snapshot=<id>), an account folder or an output root`,
    );
  if (
    await stat(join(path, MANIFEST_FILE)).then(
      () => true,
      () => false,
    )
  )
    return [path];
  const ids = await snapshotIdsIn(path);
  if (ids.length > 0) return ids.map((id) => snapshotDirIn(path, id));
  const accounts = await accountsIn(path);
  const all: string[] = [];
  for (const id of accounts) {
    const dir = accountDir(path, id);
    refuseLink(dir);
    all.push(...(await snapshotIdsIn(dir)).map((s) => snapshotDirIn(dir, s)));
  }
  if (all.length > 0) return all;
  // A snapshot whose manifest was deleted is still a snapshot to report on, not a usage error.
  if (/(^|[\\/])snapshot=[^\\/]+[\\/]?$/.test(path)) return [path];
  throw new UsageError(
    `${path} is neither a snapshot (no ${MANIFEST_FILE}) nor a folder with snapshots (account=<id>/snapshot=<id>)`,
  );
}

/** One target's lines: OK, or ALTERED and each problem. */
function printResult(kind: Target['kind'], r: VerifyResult): void {
  if (r.intact)
    process.stdout.write(
      kind === 'view'
        ? `OK       ${r.dir} (current view: ${r.filesChecked} files match its manifest)\n`
        : `OK       ${r.dir} (${r.filesChecked} files, manifest digest matches)\n`,
    );
  else {
    process.stdout.write(`ALTERED  ${r.dir}\n`);
    for (const p of r.problems) process.stdout.write(`  ${p.kind.padEnd(23)} ${p.file}: ${p.detail}\n`);
  }
}

/** What a signal stopping verify says: how far it got (it changes nothing, so running it again is all there is). */
function stoppedVerifying(results: readonly VerifyResult[], total: number): InterruptedError {
  const altered = results.filter((r) => !r.intact).length;
  return new InterruptedError(
    `verify was stopped by a signal after checking ${results.length} of ${total}` +
      `${altered > 0 ? ` (${altered} of them altered)` : ''}; it only reads, so nothing changed: run it again`,
  );
}

/**
 * `ig-export verify <dir…>`: checks each snapshot against its manifest and the manifest against manifest.sha256.
 * Prints OK or every problem; exit 0 when all are intact, 9 otherwise.
 */
export async function verifyCommand(args: VerifyArgs): Promise<CommandResult> {
  const targets: Target[] = [];
  for (const path of args.snapshots) targets.push(...(await targetsOf(path)));
  const dirs = targets.map((t) => t.dir);
  const results: VerifyResult[] = [];
  const logger = createCliLogger(args['log-level'], () => []);
  await withStopSignals(
    logger,
    args.json,
    async (signal) => {
      // verify only reads: a signal ends it at once, in the middle of a file's hash if need be.
      const stopped = new Promise<never>((_, reject) =>
        signal.addEventListener('abort', () => reject(stoppedVerifying(results, targets.length)), {
          once: true,
        }),
      );
      for (const { kind, dir } of targets) {
        const r = await Promise.race([
          kind === 'view' ? verifyCurrentView(dir) : verifySnapshot(dir),
          stopped,
        ]);
        results.push(r);
        if (!args.json) printResult(kind, r);
      }
    },
    'stopping verify',
  );
  const intact = results.every((r) => r.intact);
  const failed = results.filter((r) => !r.intact).length;
  const views = targets.filter((t) => t.kind === 'view').length;
  const what = `${dirs.length - views} snapshot${dirs.length - views === 1 ? '' : 's'}${
    views === 0 ? '' : ` and ${views} current view${views === 1 ? '' : 's'}`
  }`;
  if (!args.json && dirs.length > 1)
    process.stdout.write(intact ? `All ${what} intact.\n` : `${failed} of ${what} failed verification.\n`);
  return {
    code: intact ? ExitCode.Ok : ExitCode.VerifyFailed,
    summary: {
      status: intact ? 'intact' : 'altered',
      snapshots: results.map((r) => ({
        dir: r.dir,
        intact: r.intact,
        filesChecked: r.filesChecked,
        problems: r.problems,
      })),
    },
  };
}
