import type { Manifest } from './manifest.js';
import { describeCoverage, textCoverage } from './text-coverage.js';
import { groupedNumber as num } from './grouped-number.js';

/** The reviewer's page of a snapshot: `report.html`, self-contained (no script, no network, inline CSS and SVG). */
export const REPORT_FILE = 'report.html';

/** Conversations listed in the per-conversation table; the rest are counted (the manifest lists them all). */
const MAX_CONVERSATION_ROWS = 500;

const escape = (v: string | number | null | undefined): string =>
  String(v ?? '—')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');

/** Messages per day (`YYYY-MM-DD` → count), folded into months when the span is long. */
export type DailyCounts = ReadonlyMap<string, number>;

function bins(daily: DailyCounts): Array<{ label: string; count: number }> {
  const days = [...daily.keys()].sort();
  const first = days[0];
  const last = days[days.length - 1];
  if (first === undefined || last === undefined) return [];
  const spanDays = (Date.parse(last) - Date.parse(first)) / 86_400_000;
  const key = spanDays > 120 ? (d: string) => d.slice(0, 7) : (d: string) => d;
  const out = new Map<string, number>();
  for (const d of days) out.set(key(d), (out.get(key(d)) ?? 0) + (daily.get(d) ?? 0));
  return [...out.entries()].map(([label, count]) => ({ label, count }));
}

function chart(daily: DailyCounts): string {
  const data = bins(daily);
  if (data.length === 0) return '<p>No message rows in this snapshot.</p>';
  const width = 720;
  const height = 180;
  const max = Math.max(...data.map((d) => d.count));
  const barWidth = width / data.length;
  const bars = data
    .map((d, i) => {
      const h = Math.max(1, Math.round((d.count / max) * (height - 20)));
      return `<rect x="${(i * barWidth).toFixed(2)}" y="${height - h}" width="${Math.max(1, barWidth - 1).toFixed(2)}" height="${h}"><title>${escape(d.label)}: ${num(d.count)}</title></rect>`;
    })
    .join('');
  const first = data[0]?.label ?? '';
  const last = data[data.length - 1]?.label ?? '';
  return (
    `<svg role="img" aria-label="Messages over time, ${escape(first)} to ${escape(last)}, at most ${num(max)} per bar" ` +
    `viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" class="chart">${bars}</svg>` +
    `<p class="axis"><span>${escape(first)}</span><span>${escape(last)}</span></p>`
  );
}

type Cell = string | number | null | undefined;

/** Conversation ids are 80-odd opaque characters: the table shows their start (manifest.json has them whole). */
const shortId = (id: string): string => (id.length > 16 ? `${id.slice(0, 14)}…` : id);

/**
 * The first question a reviewer asks: was every message the API listed accounted for? Complete, or partial and why
 * (a cancelled run says what it left, instead of pointing at failures it may not have).
 */
function accounting(m: Manifest, failedConversations: number): string {
  const held = `${num(m.counts.messages)} message${m.counts.messages === 1 ? '' : 's'} in ${num(m.counts.conversations)} conversation${m.counts.conversations === 1 ? '' : 's'}`;
  if (m.status === 'complete')
    return `Complete: every message the API listed is accounted for (${held}, each with a row).`;
  const failures =
    m.failures_total === 0 ? '' : ` ${num(m.failures_total)} item(s) failed: see Failures below.`;
  switch (m.stop_reason) {
    case 'cancelled':
      return `Partial (cancelled): the run was stopped after ${held}; conversations it had not listed or finished are not in this snapshot, and the next run goes on from here.${failures}`;
    case 'checkpoint':
      return `Partial (checkpoint): ${held} so far; later snapshots of the same run hold the rest.${failures}`;
    case 'auth':
      return `Partial (token refused): the run stopped when Instagram refused the token, after ${held}.${failures}`;
    case 'extract_failed':
      return `Partial (listing failed): the conversation listing could not be completed, after ${held}.${failures}`;
    default:
      return `Partial: ${held}; ${num(m.counts.failed)} message(s) and ${num(failedConversations)} conversation(s) still failed after retries (see Failures below); the next run tries them again.`;
  }
}

const row = (cells: Cell[], header = false): string =>
  `<tr>${cells.map((c) => (header ? `<th>${escape(c)}</th>` : `<td>${escape(c)}</td>`)).join('')}</tr>`;

const table = (head: Cell[], rows: Cell[][]): string =>
  `<table><thead>${row(head, true)}</thead><tbody>${rows.map((r) => row(r)).join('')}</tbody></table>`;

const STYLE = `body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 62rem; padding: 0 1rem; color: #1b1b1b; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .5rem 0; } th, td { padding: .2rem .6rem; border: 1px solid #ddd; text-align: left; }
td:not(:first-child) { font-variant-numeric: tabular-nums; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; } dt { font-weight: 600; } dd { margin: 0; word-break: break-all; }
.status { padding: .5rem .8rem; border-radius: 4px; } .complete { background: #e6f4ea; } .partial { background: #fdecea; }
.text-partial { background: #fff4d6; }
#conversations table { width: 100%; } #conversations td, #conversations th { overflow-wrap: anywhere; }
#conversations th { font-size: .85em; }
.chart rect { fill: #3b6ea5; } .axis { display: flex; justify-content: space-between; max-width: 720px; color: #555; margin: 0; }
code { font-size: .9em; }`;

/** The conversations whose listing failed (expand stage). */
function failedConversationsOf(m: Manifest): Set<string> {
  return new Set(m.failures.filter((f) => f.stage === 'expand').map((f) => f.conversation_id ?? ''));
}

/** The two answers first: was every listed message accounted for, and how much of the text is here. */
function statusSection(m: Manifest, failedConversations: number): string {
  const coverage = textCoverage(m.counts);
  const fullText = coverage.percent === 100 || coverage.percent === null;
  return `<p class="status ${m.status}" id="status">${escape(accounting(m, failedConversations))}</p>
<p class="status ${fullText ? 'complete' : 'text-partial'}" id="text-coverage">${escape(
    `${fullText ? 'Text' : 'Not all text'}: ${describeCoverage(coverage)}.`,
  )}${fullText ? '' : ' To keep the text of newer messages, run exports often and <code>ig-export listen</code> (README, "Lossless archiving with webhooks").'}</p>`;
}

function filtersSection(m: Manifest): string {
  const filters = m.filters;
  const facts: Array<[string, Cell]> = [
    ['Account', `${m.account_id}${m.account_username ? ` (@${m.account_username})` : ''}`],
    ['Mode', m.mode],
    ['One person (IGSID)', filters.user_id ?? 'everyone'],
    ['Messages created from', filters.since ?? 'the beginning'],
    ['Messages created before', filters.until ?? 'the run (no end)'],
    [
      'Redaction',
      m.redaction
        ? `user ids and usernames hashed (${m.redaction.method}, key id ${m.redaction.key_id}); dropped: ${m.redaction.dropped.join(', ')}`
        : 'none',
    ],
    ['Run by', `${m.custody.os_user} on ${m.custody.host}`],
    ['Command', m.custody.command_line.join(' ')],
    ['Started', m.started_at],
    ['Ended', m.ended_at],
    ['Tool', `ig-export ${m.tool.version}, Node ${m.custody.node_version}`],
    ['API', `${m.api.base_url} ${m.api.version}`],
    ['Run id', m.run_id],
  ];
  return `<section id="filters">
<h2>What was exported</h2>
<dl>${facts.map(([k, v]) => `<dt>${escape(k)}</dt><dd>${escape(v)}</dd>`).join('')}</dl>
</section>`;
}

function countsSection(m: Manifest): string {
  return `<section id="counts">
<h2>Messages by status</h2>
${table(
  ['status', 'messages', 'meaning'],
  [
    ['hydrated', num(m.counts.hydrated), 'read in full'],
    [
      'captured',
      num(m.counts.captured),
      'gone from the API, filled from a webhook that ig-export listen captured',
    ],
    ['imported', num(m.counts.imported), 'content from the account\'s "Download your information" archive'],
    ['archive_only', num(m.counts.archive_only), 'in the archive, matched to no listed message'],
    ['outside_window', num(m.counts.outside_window), 'beyond the 20 most recent: only id and time exist'],
    ['unavailable', num(m.counts.unavailable), 'the API said deleted or unsupported'],
    ['failed', num(m.counts.failed), 'still failing after retries'],
    [
      'all',
      num(m.counts.messages),
      `in ${num(m.counts.conversations)} conversation${m.counts.conversations === 1 ? '' : 's'}`,
    ],
  ],
)}
</section>`;
}

function windowLossSection(m: Manifest): string {
  return `<section id="window-loss">
<h2>Window losses</h2>
<p>${num(m.window_loss.lost)} message bodies fell out of the 20-message window since the previous run before they could be read.</p>
${
  m.window_loss.worst.length === 0
    ? ''
    : table(
        ['conversation', 'lost', 'new messages'],
        m.window_loss.worst.map((w) => [w.conversation_id, num(w.lost), num(w.new_messages)]),
      )
}
</section>`;
}

function mediaSection(m: Manifest): string {
  const media = m.media;
  return `<section id="media">
<h2>Media</h2>
${
  media === null
    ? '<p>Not downloaded (run with <code>--download-media</code> to archive attachments before their links expire).</p>'
    : table(
        ['downloaded', 'expired', 'too large', 'failed', 'distinct files', 'bytes'],
        [
          [
            num(media.downloaded),
            num(media.expired),
            num(media.too_large),
            num(media.failed),
            num(media.files),
            num(media.bytes),
          ],
        ],
      )
}
</section>`;
}

const CONVERSATION_HEAD: Cell[] = [
  'conversation',
  'with',
  'rows',
  'hydrated',
  'captured',
  'outside window',
  'unavailable',
  'failed',
  'outside time window',
  'complete',
];

/** The least complete conversations first, each with who it is with. */
function conversationsSection(m: Manifest, failedConversations: Set<string>): string {
  const conversations = [...m.conversations].sort(
    (a, b) =>
      Number(failedConversations.has(b.conversation_id)) -
        Number(failedConversations.has(a.conversation_id)) ||
      b.failed - a.failed ||
      b.outside_window - a.outside_window ||
      a.conversation_id.localeCompare(b.conversation_id),
  );
  const shown = conversations.slice(0, MAX_CONVERSATION_ROWS);
  return `<section id="conversations">
<h2>Per conversation</h2>
<p>${num(conversations.length)} conversations${conversations.length > shown.length ? `; the ${num(shown.length)} least complete are shown, manifest.json lists all` : ''}. Complete means the conversation was listed to the end (or down to what earlier snapshots hold) and nothing failed.</p>
${table(
  CONVERSATION_HEAD,
  shown.map((c) => [
    shortId(c.conversation_id),
    c.participant_username || c.participant_id
      ? `${c.participant_username ? `@${c.participant_username} ` : ''}${c.participant_id ?? ''}`.trim()
      : null,
    num(c.rows),
    num(c.hydrated),
    num(c.captured),
    num(c.outside_window),
    num(c.unavailable),
    num(c.failed),
    num(c.outside_time_window),
    failedConversations.has(c.conversation_id) || c.failed > 0 ? 'no' : 'yes',
  ]),
)}
</section>`;
}

function failuresSection(m: Manifest): string {
  return `<section id="failures">
<h2>Failures</h2>
${
  m.failures_total === 0
    ? '<p>None.</p>'
    : table(
        ['stage', 'conversation', 'message', 'reason'],
        m.failures.slice(0, 200).map((f) => [f.stage, f.conversation_id, f.message_id, f.reason]),
      )
}
</section>`;
}

/** The report of a snapshot, from its manifest (files excluded: the report cannot list its own hash). */
export function renderReport(manifest: Manifest, daily: DailyCounts): string {
  const m = manifest;
  const failedConversations = failedConversationsOf(m);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ig-export snapshot ${escape(m.snapshot_id)}</title>
<style>
${STYLE}
</style>
</head>
<body>
<main>
<h1>ig-export snapshot ${escape(m.snapshot_id)}</h1>
${statusSection(m, failedConversations.size)}
${filtersSection(m)}
${countsSection(m)}
<section id="chart-section">
<h2>Messages over time</h2>
${chart(daily)}
</section>
${windowLossSection(m)}
${mediaSection(m)}
${conversationsSection(m, failedConversations)}
${failuresSection(m)}
<section id="verify">
<h2>Checking this snapshot</h2>
<p><code>manifest.json</code> lists every file with its size and SHA-256, and <code>manifest.sha256</code> holds the manifest's own hash. Run <code>ig-export verify &lt;this folder&gt;</code> (or <code>sha256sum -c manifest.sha256</code> for the manifest alone).</p>
</section>
</main>
</body>
</html>
`;
}
