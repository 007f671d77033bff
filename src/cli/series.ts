// `vigil backtest series`: CSV in (timestamp,value), CSV out (timestamp,value,anomaly_score),
// one output row per input row, in input order. An empty value (or `null`, `NaN`) is unknown:
// it is not learned and its score is left empty.
import { readFileSync, writeFileSync } from 'node:fs';
import { scoreSeries, type SeriesParams, type SeriesPoint } from '../detect/index.js';

/** Spellings of an unknown value (a gap in the metric). */
const UNKNOWN = new Set(['', 'null', 'nan']);

export function parseSeriesCsv(text: string): {
  header: string;
  rows: Array<{ raw: string[]; point: SeriesPoint }>;
} {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new Error('series: the input is empty');
  const header = lines[0]!.trim();
  const cols = header.split(',').map((c) => c.trim().toLowerCase());
  if (cols[0] !== 'timestamp' || cols[1] !== 'value')
    throw new Error(`series: the header must be "timestamp,value", got "${header.slice(0, 60)}"`);
  const rows = lines.slice(1).map((line, i) => {
    const raw = line.split(',').map((c) => c.trim());
    const [ts = '', v = ''] = raw;
    const time = /^\d+(\.\d+)?$/.test(ts)
      ? Number(ts) < 1e11
        ? Number(ts) * 1000
        : Number(ts)
      : Date.parse(ts);
    const unknown = UNKNOWN.has(v.toLowerCase());
    const value = unknown ? null : Number(v);
    if (!Number.isFinite(time)) throw new Error(`series line ${i + 2}: timestamp is not ISO-8601 or epoch`);
    if (value !== null && !Number.isFinite(value))
      throw new Error(`series line ${i + 2}: value is not a number`);
    return { raw: [ts, v], point: { time, value } };
  });
  return { header, rows };
}

export function scoreSeriesFile(
  input: string,
  output: string,
  params: SeriesParams,
): { rows: number; scored: number } {
  const { rows } = parseSeriesCsv(readFileSync(input, 'utf8'));
  const scores = scoreSeries(
    rows.map((r) => r.point),
    params,
  );
  const out = [
    'timestamp,value,anomaly_score',
    ...rows.map((r, i) => `${r.raw[0]},${r.raw[1]},${scores[i]?.toFixed(6) ?? ''}`),
  ];
  writeFileSync(output, `${out.join('\n')}\n`, { mode: 0o600 });
  return { rows: rows.length, scored: scores.filter((s) => s !== null && s > 0).length };
}
