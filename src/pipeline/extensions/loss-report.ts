/**
 * Window-loss accounting. A message that arrived after the previous run and was already beyond the 20 most recent
 * when this run listed it was never readable by us: its body is lost. From how many messages each conversation got
 * since it was last checked, estimate the longest schedule interval that would have kept every body readable.
 */
export interface ConversationActivity {
  conversationId: string;
  /** Messages not archived before this run. */
  newMessages: number;
  /** New messages that were already outside the window. */
  lost: number;
  /** How long since the conversation was last listed, when known. */
  elapsedMs: number | undefined;
}

export interface LossReport {
  lost: number;
  /** Conversations that lost bodies, worst first (at most 10). */
  worst: Array<{ conversation_id: string; lost: number; new_messages: number }>;
  /** The longest interval between runs that would have lost nothing, from the busiest conversation; null if unknown. */
  recommended_interval_minutes: number | null;
  /** The busiest conversations by message rate (at most 5). */
  busiest: Array<{ conversation_id: string; new_messages: number; per_hour: number }>;
}

export function lossReport(activities: readonly ConversationActivity[], windowSize: number): LossReport {
  const lost = activities.reduce((a, c) => a + c.lost, 0);
  const worst = activities
    .filter((c) => c.lost > 0)
    .sort((a, b) => b.lost - a.lost)
    .slice(0, 10)
    .map((c) => ({ conversation_id: c.conversationId, lost: c.lost, new_messages: c.newMessages }));
  const rated = activities
    .filter((c) => c.elapsedMs !== undefined && c.elapsedMs > 0 && c.newMessages > 0)
    .map((c) => ({ c, perMs: c.newMessages / (c.elapsedMs ?? 1) }))
    .sort((a, b) => b.perMs - a.perMs);
  const top = rated[0];
  // windowSize new messages may arrive between two runs before the oldest unread one falls out of the window.
  const recommended = top === undefined ? null : Math.max(1, Math.floor(windowSize / top.perMs / 60_000));
  return {
    lost,
    worst,
    recommended_interval_minutes: recommended,
    busiest: rated.slice(0, 5).map(({ c, perMs }) => ({
      conversation_id: c.conversationId,
      new_messages: c.newMessages,
      per_hour: Math.round(perMs * 3_600_000 * 10) / 10,
    })),
  };
}

/** The operator's warning: numbers and the fix. Undefined when nothing was lost. */
export function lossWarning(report: LossReport): string | undefined {
  if (report.lost === 0) return undefined;
  const n = report.worst.length;
  const names = report.worst
    .slice(0, 3)
    .map((w) => `${w.conversation_id} (${w.lost} of ${w.new_messages} new)`)
    .join(', ');
  const fix =
    report.recommended_interval_minutes === null
      ? 'run more often'
      : `run at least every ${report.recommended_interval_minutes} min`;
  return `${fix}; ${n === 10 ? '10+' : n} conversation${n === 1 ? '' : 's'} lost ${report.lost} message bod${report.lost === 1 ? 'y' : 'ies'} since the last run (worst: ${names})`;
}

/** Window accounting as a run extension: each finished conversation's activity, reported (and warned of) at the end. */
export class WindowAccounting {
  private readonly activities: ConversationActivity[] = [];

  constructor(private readonly windowSize: number) {}

  conversationFinished(activity: ConversationActivity): void {
    this.activities.push(activity);
  }

  report(warn: (message: string, fields: Record<string, unknown>) => void): LossReport {
    const loss = lossReport(this.activities, this.windowSize);
    const warning = lossWarning(loss);
    if (warning)
      warn(warning, { lost: loss.lost, recommended_interval_minutes: loss.recommended_interval_minutes });
    return loss;
  }
}
