import type { Transport } from '../graph/transport.js';
import { systemRandom } from './system-random.js';
import { basename } from 'node:path';
import { systemClock } from '../clock.js';
import { GraphAuthError } from '../graph/errors.js';
import type { Logger } from '../logger.js';
import type { OnProgress } from '../pipeline/extensions/export-progress.js';
import { runExport, type ExportOptions, type ExportSummary } from '../pipeline/run-export.js';
import { NO_SNAPSHOT_TEXT } from '../pipeline/run-outcome.js';
import { ExitCode, InterruptedError } from './exit-codes.js';
import { describeFailure } from './failure-report.js';
import { describeCoverage, textCoverage } from '../snapshots/text-coverage.js';
import { collectCustody } from './custody.js';
import { toolVersion } from './tool-version.js';

export interface ReportOptions {
  json: boolean;
  /** Aborted by the first SIGINT/SIGTERM (see withStopSignals). */
  signal: AbortSignal;
  /** How the run is going (the live display on a terminal). */
  onProgress?: OnProgress | undefined;
  /** Exit 6 when a complete run lost message bodies to the window. */
  failOnLoss: boolean;
  /** In a fleet, the account's name: it heads the text summary. */
  label?: string | undefined;
  /** How Graph requests are sent (`--record` wraps fetch). */
  transport?: Transport | undefined;
}

/**
 * Runs one export and returns the exit code, the JSON summary and the text summary (empty with --json) for the
 * caller to print.
 */
export async function runAndReport(
  options: ExportOptions,
  logger: Logger,
  report: ReportOptions,
): Promise<{ code: number; summary: Record<string, unknown>; run: ExportSummary; text: string }> {
  let run: ExportSummary;
  try {
    run = await runExport(options, {
      clock: systemClock,
      random: systemRandom,
      logger,
      signal: report.signal,
      toolVersion: toolVersion(),
      onProgress: report.onProgress,
      transport: report.transport,
      custody: collectCustody(process.argv.slice(2), [
        options.client.token,
        ...(options.run.redactKey === undefined ? [] : [options.run.redactKey]),
      ]),
    });
  } catch (e) {
    if (report.signal.aborted)
      throw new InterruptedError('stopped by a signal before anything was exported; nothing was published');
    throw e;
  }
  const text = report.json
    ? ''
    : `${report.label === undefined ? '' : `[${report.label}] `}${textSummary(run)}`;
  const code = exitCodeOf(run, report.failOnLoss);
  if (run.stopError instanceof GraphAuthError) logger.error(run.stopError.message);
  else if (run.stopError) logger.error(`run stopped early: ${run.stopError.message}`);
  return { code, summary: jsonSummary(run), run, text };
}

/** 3 when the token died, 4 when anything is partial, 6 (with --fail-on-loss) when bodies were lost, else 0. */
export function exitCodeOf(s: ExportSummary, failOnLoss: boolean): number {
  if (s.stopError instanceof GraphAuthError) return ExitCode.Auth;
  if (s.status !== 'complete') return ExitCode.Partial;
  if (failOnLoss && s.counts.lost > 0) return ExitCode.WindowLoss;
  return ExitCode.Ok;
}

/** The --json line (the error boundary adds exitCode). Built from counts and ids only: no secret can be in it. */
export function jsonSummary(s: ExportSummary): Record<string, unknown> {
  const error = s.stopError ? describeFailure(s.stopError) : undefined;
  return {
    status: s.status,
    runId: s.runId,
    accountId: s.accountId,
    mode: s.mode,
    resumedFromRunId: s.resumedFromRunId ?? null,
    skippedConversations: s.skippedConversations,
    stopReason: s.stopReason ?? null,
    snapshotDir: s.snapshotDir ?? null,
    snapshotDirs: s.snapshotDirs,
    noSnapshot: s.noSnapshot ?? null,
    counts: s.counts,
    textCoverage: textCoverage(s.counts),
    calls: s.calls,
    callsByEndpoint: s.metrics.calls,
    hydration: s.hydration,
    recommendedIntervalMinutes: s.loss.recommended_interval_minutes,
    webhooks: s.webhooks,
    ...(error
      ? {
          error: {
            kind: error.kind,
            message: error.message,
            ...(error.graphCode === undefined ? {} : { code: error.graphCode }),
          },
        }
      : {}),
  };
}

const capitalised = (text: string): string => `${text.charAt(0).toUpperCase()}${text.slice(1)}`;

function textSummary(s: ExportSummary): string {
  const c = s.counts;
  const head =
    s.snapshotDirs.length === 0
      ? capitalised(NO_SNAPSHOT_TEXT[s.noSnapshot ?? 'unchanged'])
      : `${s.status === 'complete' ? 'Export complete' : `Export PARTIAL (${s.stopReason ?? 'some items failed'}; see manifest.json)`}: ${
          s.snapshotDirs.length === 1
            ? s.snapshotDir
            : `${s.snapshotDirs.length} snapshots, ${basename(s.snapshotDirs[0] ?? '')} … ${s.snapshotDir}`
        }`;
  const how = s.resumedFromRunId
    ? `full export resumed (${s.skippedConversations} conversations already published were skipped)`
    : `${s.mode} export`;
  const m = s.manifest;
  const window =
    m && (m.filters.since !== null || m.filters.until !== null)
      ? [`  time window: from ${m.filters.since ?? 'the beginning'} to before ${m.filters.until ?? 'now'}`]
      : [];
  const media = m?.media
    ? [
        `  media (last snapshot): ${m.media.downloaded} downloaded (${m.media.files} files), ${m.media.expired} expired, ${m.media.too_large} too large, ${m.media.failed} failed`,
      ]
    : [];
  return [
    head,
    `  ${how}: conversations ${c.conversations}, messages ${c.messages}: hydrated ${c.hydrated}, captured ${c.captured}, outside_window ${c.outside_window} (lost since the last run: ${c.lost}), unavailable ${c.unavailable}, failed ${c.failed}`,
    `  ${describeCoverage(textCoverage(c))}`,
    ...window,
    ...media,
    ...(s.webhooks
      ? [
          `  webhooks: ${s.webhooks.captured} bodies filled from captured messages, ${s.webhooks.unsends} unsends marked, ${s.webhooks.pending} captured messages not listed yet`,
        ]
      : []),
    `  API calls ${s.calls}`,
    ...(s.snapshotDir ? [`  check it: ig-export verify ${s.snapshotDir}`] : []),
    '',
  ].join('\n');
}
