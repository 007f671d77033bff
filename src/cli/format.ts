// Output formats of the read commands: `json` is a JSON array on stdout and nothing else; `table`
// is for a terminal, so every cell is stripped of escape sequences and control characters (a
// collection named ESC[2J… must not clear an analyst's screen) and kept on one line (a line break
// in a value must not forge a row).
import { cleanText } from '../export/index.js';

export function printRows(rows: object[], format: 'json' | 'table', columns: string[]): void {
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify(rows)}\n`);
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
  const line = (vals: string[]) => vals.map((v, i) => v.slice(0, widths[i]).padEnd(widths[i]!)).join('  ');
  process.stdout.write(`${line(columns)}\n${line(widths.map((w) => '-'.repeat(w)))}\n`);
  for (const row of cells) process.stdout.write(`${line(row)}\n`);
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
