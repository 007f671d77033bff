// `npm run bench:series [-- --nab DIR]`: the streaming volume scorer (`vigil backtest series`)
// before and after the level-shift adaptation, on synthetic labelled series (bench/series/
// cases.ts) and, when given a local copy of the Numenta Anomaly Benchmark (its data/ and
// labels/combined_labels.json; not part of this repository), on NAB's labelled series.
// "before" is the scorer with adaptation off (adapt_after 0, the behaviour before it existed);
// "after" is the default. Writes bench/series/figures.json and prints a table.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseSeriesCsv } from '../../src/cli/series.js';
import { volumeSpikeParamsSchema } from '../../detectors/volume-spike/volume-spike.params.js';
import { packageRoot } from '../../src/config/index.js';
import { scoreSeries, type SeriesParams, type SeriesPoint } from '../../src/detect/index.js';
import { CASE_KINDS, makeCase } from './cases.js';
import { addCounts, countOnsets, type OnsetCounts, summarize, ZERO } from './metrics.js';

const SEEDS = 10;
const HOUR = 3_600_000;

function variants(): Record<string, SeriesParams> {
  const defaults = volumeSpikeParamsSchema.parse({});
  return { before: { ...defaults, adapt_after: 0 }, after: defaults };
}

/** One hour's worth of points after an onset, at least three. */
function toleranceOf(points: readonly SeriesPoint[]): number {
  const steps = points
    .slice(1)
    .map((p, i) => p.time - points[i]!.time)
    .sort((a, b) => a - b);
  const step = steps[Math.floor(steps.length / 2)] ?? HOUR;
  return Math.max(3, Math.round(HOUR / Math.max(1, step)));
}

type Group = Record<string, Record<string, OnsetCounts>>;

function accumulate(groups: Group, group: string, variant: string, c: OnsetCounts): void {
  groups[group] ??= {};
  groups[group]![variant] = addCounts(groups[group]![variant] ?? ZERO, c);
}

function synthetic(): Group {
  const out: Group = {};
  for (const kind of CASE_KINDS)
    for (let seed = 1; seed <= SEEDS; seed++) {
      const s = makeCase(kind, seed);
      for (const [name, params] of Object.entries(variants())) {
        const c = countOnsets(scoreSeries(s.points, params), s.onsets, toleranceOf(s.points));
        accumulate(out, kind, name, c);
        accumulate(out, 'all synthetic', name, c);
      }
    }
  return out;
}

function nab(dir: string): Group {
  const labels = JSON.parse(readFileSync(path.join(dir, 'labels/combined_labels.json'), 'utf8')) as Record<
    string,
    string[]
  >;
  // NAB's timestamps are "YYYY-MM-DD hh:mm:ss" without a zone; they are read as UTC.
  const utc = (t: string) => Date.parse(`${t.replace(' ', 'T')}Z`);
  const out: Group = {};
  for (const [file, marks] of Object.entries(labels)) {
    const csv = readFileSync(path.join(dir, 'data', file), 'utf8').replace(
      /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)/gm,
      '$1T$2Z',
    );
    const points = parseSeriesCsv(csv).rows.map((r) => r.point);
    const onsets = marks.map((m) => points.findIndex((p) => p.time >= utc(m))).filter((i) => i >= 0);
    const family = file.split('/')[0]!;
    for (const [name, params] of Object.entries(variants())) {
      const c = countOnsets(scoreSeries(points, params), onsets, toleranceOf(points));
      accumulate(out, `NAB ${family}`, name, c);
      accumulate(out, 'NAB all', name, c);
    }
  }
  return out;
}

function table(groups: Group): Record<string, Record<string, ReturnType<typeof summarize>>> {
  const out: Record<string, Record<string, ReturnType<typeof summarize>>> = {};
  for (const [g, byVariant] of Object.entries(groups)) {
    out[g] = {};
    for (const [v, c] of Object.entries(byVariant)) out[g]![v] = summarize(c);
  }
  return out;
}

function print(groups: ReturnType<typeof table>): void {
  const f = (x: number | null) => (x === null ? '   -  ' : x.toFixed(3).padStart(6));
  const pc = (x: number) => `${(x * 100).toFixed(2)}%`.padStart(7);
  process.stdout.write(
    'group                            variant  onsets  recall  alarms  precision  flagged  ≥0.99\n',
  );
  for (const [g, byVariant] of Object.entries(groups))
    for (const [v, s] of Object.entries(byVariant))
      process.stdout.write(
        `${g.padEnd(32)} ${v.padEnd(8)} ${String(s.onsets).padStart(6)}  ${f(s.recall)}  ${String(s.alarms).padStart(6)}  ${f(s.precision)}     ${pc(s.flagged_share)} ${pc(s.flagged99_share)}\n`,
      );
}

function main(): void {
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--nab');
  const nabDir = at >= 0 ? argv[at + 1] : undefined;
  if (at >= 0 && !nabDir) throw new Error('--nab: expected the directory holding data/ and labels/');
  const groups = table({ ...synthetic(), ...(nabDir ? nab(nabDir) : {}) });
  print(groups);
  const report = {
    definition:
      'flagged: score >= 0.5 (the band edge, where volume-spike fires); alarm: first point of a flagged run; ' +
      'onset detected: a flagged point within one hour of points (at least 3) after it; true alarm: starts in such a window',
    params: variants(),
    synthetic_seeds: SEEDS,
    nab: nabDir
      ? 'numenta/NAB data/ and labels/combined_labels.json (evaluated locally, not committed)'
      : null,
    groups,
  };
  writeFileSync(
    path.join(packageRoot(), 'bench/series/figures.json'),
    `${JSON.stringify(report, null, 2)}\n`,
  );
}

main();
