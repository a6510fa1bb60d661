import { randomInt } from 'node:crypto';
import { systemClock } from '../clock.js';
import { GraphAuthError } from '../graph/errors.js';
import type { Logger } from '../logger.js';
import { runExport, type ExportOptions, type ExportSummary } from '../pipeline/run-export.js';
import { ExitCode } from './exit-codes.js';
import { toolVersion } from './tool-version.js';

/**
 * Runs one export with SIGINT/SIGTERM wired to an AbortSignal (a second signal exits at once), prints the summary
 * (one JSON line with --json) and returns the exit code.
 */
export async function runAndReport(
  options: ExportOptions,
  logger: Logger,
  json: boolean,
): Promise<{ code: number; summary?: ExportSummary }> {
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (name: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      process.stderr.write(`second ${name}: exiting now\n`);
      process.exit(130);
    }
    logger.warn(
      `${name} received: finishing in-flight work and publishing a partial snapshot (send again to exit now)`,
    );
    controller.abort(new Error(`${name} received`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const summary = await runExport(options, {
      clock: systemClock,
      random: () => randomInt(0, 1_000_000) / 1_000_000,
      logger,
      signal: controller.signal,
      toolVersion: toolVersion(),
    });
    report(summary, json);
    if (summary.stopError instanceof GraphAuthError) {
      logger.error(summary.stopError.message);
      return { code: ExitCode.Auth, summary };
    }
    if (summary.stopError) logger.error(`run stopped early: ${summary.stopError.message}`);
    return { code: summary.status === 'complete' ? ExitCode.Ok : ExitCode.Partial, summary };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function report(s: ExportSummary, json: boolean): void {
  if (json) {
    process.stdout.write(
      `${JSON.stringify({
        status: s.status,
        snapshotDir: s.snapshotDir,
        accountId: s.accountId,
        mode: s.mode,
        counts: s.counts,
        calls: s.calls,
        recommendedIntervalMinutes: s.loss.recommended_interval_minutes,
        snapshotDirs: s.snapshotDirs,
      })}\n`,
    );
    return;
  }
  const c = s.counts;
  process.stdout.write(
    [
      `${s.status === 'complete' ? 'Snapshot complete' : `Snapshot PARTIAL (${s.stopReason ?? 'some items failed'}; see manifest.json)`}: ${s.snapshotDir}`,
      `  ${s.mode} export: conversations ${c.conversations}, messages ${c.messages}: hydrated ${c.hydrated}, outside_window ${c.outside_window} (lost since the last run: ${c.lost}), unavailable ${c.unavailable}, failed ${c.failed}`,
      `  API calls ${s.calls}`,
      '',
    ].join('\n'),
  );
}
