import { createLogUpdate } from 'log-update';
import type { ExportProgress } from '../pipeline/extensions/export-progress.js';
import { groupedNumber as n } from '../snapshots/grouped-number.js';

function duration(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/**
 * The frame for one account's progress: what a person watching a long first export wants to know. `label` is the
 * account's name in a fleet run.
 */
export function renderProgress(p: ExportProgress, label?: string): string {
  // A run stopped early says so to the end, never "finished".
  const stopped =
    p.stopReason === undefined
      ? undefined
      : p.stopReason === 'cancelled'
        ? 'cancelled'
        : `stopped (${p.stopReason})`;
  const stage = p.stage === 'done' && stopped !== undefined ? stopped : p.stage;
  const eta =
    p.stage === 'done'
      ? (stopped ?? 'finished')
      : p.etaSeconds === undefined
        ? 'ETA: after the listing'
        : `ETA ${p.listingComplete ? '' : '≥ '}${duration(p.etaSeconds)}`;
  const skipped = p.conversationsSkipped ? ` (${n(p.conversationsSkipped)} unchanged)` : '';
  // Rows written by this run, and how many of them are in published snapshots (checkpoints) already.
  const published =
    p.messagesPublished !== undefined && p.messagesPublished !== p.messages
      ? ` written, ${n(p.messagesPublished)} published`
      : '';
  return [
    `ig-export  ${label === undefined ? '' : `${label}: `}account ${p.accountId}${p.accountUsername ? ` (@${p.accountUsername})` : ''}  ${stage}`,
    `  conversations ${n(p.conversationsDone)} done${skipped} / ${n(p.conversationsListed)} listed${p.listingComplete ? '' : ' so far'}` +
      `   messages ${n(p.messages)}${published} (hydrated ${n(p.hydrated)})`,
    `  API calls ${n(p.calls)} at ≤ ${p.maxRps}/s   throttle waits ${duration(p.throttleWaitMs / 1000)}   ${eta}`,
  ].join('\n');
}

/** The whole frame: the header line (a fleet's totals), then one block per account in the order they started. */
export function renderFrame(
  header: string | undefined,
  accounts: Iterable<{ label: string | undefined; progress: ExportProgress }>,
): string {
  const blocks = [...accounts].map((a) => renderProgress(a.progress, a.label));
  return [...(header === undefined ? [] : [header]), ...blocks].join('\n');
}

/**
 * A live frame on stderr, redrawn at most every 100 ms, that log lines pass through (the frame is cleared, the line
 * printed, the frame drawn again) so the two never interleave. It holds one block per account (a fleet run shows
 * them all, under a header line). The CLI uses it only when stderr is a terminal and --quiet is not given; cron
 * runs keep plain log lines.
 */
export class ProgressDisplay {
  private readonly update = createLogUpdate(process.stderr, { showCursor: true });
  private readonly accounts = new Map<string, { label: string | undefined; progress: ExportProgress }>();
  private header: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  /** An account's progress; `label` names it in a fleet run. */
  show(progress: ExportProgress, label?: string): void {
    if (this.stopped) return;
    this.accounts.set(label ?? progress.accountId, { label, progress });
    this.schedule();
  }

  /** A line above the accounts' blocks (the fleet's totals). */
  setHeader(header: string): void {
    if (this.stopped) return;
    this.header = header;
    this.schedule();
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.draw();
    }, 100);
  }

  private draw(): void {
    const frame = renderFrame(this.header, this.accounts.values());
    if (frame !== '') this.update(frame);
  }

  /** Writes a log line above the frame. */
  log(line: string): void {
    if (this.stopped) {
      process.stderr.write(line.endsWith('\n') ? line : `${line}\n`);
      return;
    }
    this.update.clear();
    process.stderr.write(line.endsWith('\n') ? line : `${line}\n`);
    this.draw();
  }

  /** Leaves the last frame on screen (above the summary the CLI prints next) and stops redrawing. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.draw();
    this.update.done();
  }
}
