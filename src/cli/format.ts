// Output formats of the read commands: `json` is a JSON array on stdout and nothing else; `table`
// is for a terminal, so every cell is stripped of escape sequences and control characters (a
// collection named ESC[2J… must not clear an analyst's screen) and kept on one line (a line break
// in a value must not forge a row).
import { cleanText } from '../export/index.js';
import type { Finding } from '../model/index.js';

export function printRows(
  rows: object[],
  format: 'json' | 'ndjson' | 'table',
  columns: string[],
  opts: { colour?: boolean; header?: boolean } = {},
): void {
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify(rows)}\n`);
    return;
  }
  if (format === 'ndjson') {
    for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
  if (rows.length === 0) {
    process.stdout.write('(none)\n');
    return;
  }
  const cells = rows.map((r) => columns.map((c) => cell((r as Record<string, unknown>)[c])));
  const widths = columns.map((c, i) =>
    Math.min(60, Math.max(c.length, ...cells.map((row) => row[i]!.length))),
  );
  const severityAt = columns.indexOf('severity');
  const line = (vals: string[], coloured = false) =>
    vals
      .map((v, i) => {
        const padded = v.slice(0, widths[i]).padEnd(widths[i]!);
        return coloured && i === severityAt ? colourSeverity(padded, v, true) : padded;
      })
      .join('  ');
  if (opts.header !== false)
    process.stdout.write(`${line(columns)}\n${line(widths.map((w) => '-'.repeat(w)))}\n`);
  for (const row of cells) process.stdout.write(`${line(row, opts.colour === true)}\n`);
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(3);
  if (Array.isArray(v)) return terminalSafe(v.join(','));
  return terminalSafe(String(v));
}

/** One line of printable text: no escape sequence, no control character, no line break. */
export function terminalSafe(value: string): string {
  return cleanText(value).replace(/[\r\n\u2028\u2029]+/g, ' ');
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/**
 * `vigil findings` as a table: when each finding first fired (the moment of detection; re-issues
 * leave it), its latest issue and how many issues there were.
 */
export const FINDING_COLUMNS = [
  'finding_id',
  'first_fired',
  'updated',
  'updates',
  'detector',
  'severity',
  'score',
  'entity',
  'sentence',
];

export function findingTableRows(
  findings: ReadonlyArray<{ first_fired_time: number; event_time: number; update_count: number }>,
): object[] {
  return findings.map((f) => ({
    ...f,
    first_fired: isoTime(f.first_fired_time),
    updated: isoTime(f.event_time),
    updates: f.update_count,
  }));
}

/**
 * Whether to colour what goes to `stream`: only a terminal, and never when NO_COLOR is set to
 * anything but '' (no-color.org) or TERM is `dumb`. Piped output carries no escape sequence.
 */
export function useColour(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

const SEVERITY_SGR: Record<string, string> = { critical: '1;31', high: '31', medium: '33', low: '2' };

/** A severity cell in its colour (the text is padded first, so widths stay those of the text). */
export function colourSeverity(padded: string, severity: string, colour: boolean): string {
  const sgr = SEVERITY_SGR[severity];
  return colour && sgr ? `\u001b[${sgr}m${padded}\u001b[0m` : padded;
}

/**
 * One finding for `vigil findings show`: what it is, its history (first fired, latest issue, how
 * many issues) and the detector's explanation (observed against expected, the band, the baseline
 * period, the features and evidence). Every value is made terminal-safe.
 */
export function formatFindingDetail(f: Finding, colour: boolean): string {
  const num = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(3));
  const rows: Array<[string, string]> = [
    ['finding', f.finding_id],
    ['tenant', f.tenant],
    ['detector', f.detector],
    ['severity', f.severity],
    ['score', `${num(f.score)} (confidence ${num(f.confidence)})`],
    [f.entity_type || 'entity', f.entity],
    ...(f.actor && f.actor !== f.entity ? ([['actor', f.actor]] as Array<[string, string]>) : []),
    ['title', f.title],
    ...(f.suppressed ? ([['suppressed', f.suppressed]] as Array<[string, string]>) : []),
    ['history', ''],
    ['  first fired', isoTime(f.first_fired_time)],
    ['  last update', isoTime(f.event_time)],
    ['  updates', String(f.update_count)],
    ['  detected', isoTime(f.detected_time)],
    ['explanation', f.sentence],
    ['  observed', num(f.observed)],
    ['  expected', num(f.expected)],
    ['  band', `${num(f.band_low)} to ${num(f.band_high)}`],
    ['  baseline', f.baseline_period],
    ...Object.entries(f.features).map(([k, v]): [string, string] => [`  feature ${k}`, num(v)]),
    ...f.evidence.map((e, i): [string, string] => [i === 0 ? '  evidence' : '', e]),
    ...(f.collection ? ([['collection', f.collection]] as Array<[string, string]>) : []),
    ...(f.attack_techniques.length
      ? ([['att&ck', f.attack_techniques.join(', ')]] as Array<[string, string]>)
      : []),
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows
    .map(([k, v]) => {
      const label = terminalSafe(k).padEnd(width);
      const value = terminalSafe(v);
      return `${label}  ${k === 'severity' ? colourSeverity(value, value, colour) : value}`.trimEnd();
    })
    .join('\n');
}
