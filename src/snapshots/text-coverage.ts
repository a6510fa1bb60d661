import type { Counts } from './manifest.js';
import { groupedNumber as num } from './grouped-number.js';

/**
 * How much of the messages' content a snapshot holds, apart from whether every listed message is accounted for:
 * a complete snapshot of a long-running account still has no text for most messages, since Meta gives the content
 * of the 20 most recent only.
 */
export interface TextCoverage {
  messages: number;
  /** Rows with their content: read in full (hydrated), filled from a captured webhook, or imported from an archive. */
  withContent: number;
  /** Whole percent of `messages`; 100 only when every row has its content; null without messages. */
  percent: number | null;
  /** Beyond the 20 most recent when listed: never readable through the API. */
  outsideWindow: number;
  /** Deleted or unsupported, by the API's answer. */
  unavailable: number;
  failed: number;
  /** Bodies that fell out of the window since the previous run before they could be read. */
  lost: number;
}

export function textCoverage(c: Counts): TextCoverage {
  const withContent = c.hydrated + c.captured + c.imported + c.archive_only;
  const percent =
    c.messages === 0
      ? null
      : withContent === c.messages
        ? 100
        : Math.min(99, Math.floor((withContent / c.messages) * 100));
  return {
    messages: c.messages,
    withContent,
    percent,
    outsideWindow: c.outside_window,
    unavailable: c.unavailable,
    failed: c.failed,
    lost: c.lost,
  };
}

/** One sentence: `content for 27 % of messages: 610 of 2,285; 1,671 are beyond …; 0 lost`. */
export function describeCoverage(t: TextCoverage): string {
  if (t.percent === null) return 'no messages';
  const parts = [`content for ${t.percent} % of messages: ${num(t.withContent)} of ${num(t.messages)}`];
  if (t.outsideWindow > 0)
    parts.push(
      `${num(t.outsideWindow)} ${t.outsideWindow === 1 ? 'is' : 'are'} beyond Meta's 20-message window and were never readable through the API`,
    );
  if (t.unavailable > 0) parts.push(`${num(t.unavailable)} unavailable (deleted or unsupported)`);
  if (t.failed > 0) parts.push(`${num(t.failed)} failed`);
  parts.push(`${num(t.lost)} lost since the previous run`);
  return parts.join('; ');
}
