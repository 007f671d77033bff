// Synthetic labelled series for the streaming volume scorer (bench/series/run.ts): a daily
// rhythm of Poisson-like counts at 10-minute steps, three weeks long, with one kind of change
// each. `onsets` are the points where something a scorer should mark begins; a trend and a noise-
// only series have none (anything flagged there is a false alarm).
import { prng } from '../../src/cli/demo/workload.js';
import type { SeriesPoint } from '../../src/detect/index.js';

export const STEP = 600_000;
const DAY_POINTS = 144;
const DAYS = 21;
/** Changes start after two weeks, when every slot has a mature history. */
const CHANGE_DAY = 14;
const START = Date.UTC(2026, 0, 5);

export interface LabelledSeries {
  readonly name: string;
  readonly kind: string;
  readonly points: SeriesPoint[];
  /** Indices of the labelled onsets. */
  readonly onsets: number[];
}

export const CASE_KINDS = [
  'spike',
  'level-shift-up',
  'level-shift-down',
  'trend',
  'seasonality-change',
  'noise-only',
] as const;

/** Busy 09–17 UTC (40 per step), quiet otherwise (5), or the hours moved by `shiftHours`. */
function rhythm(i: number, shiftHours = 0): number {
  const h = (Math.floor((i % DAY_POINTS) / 6) - shiftHours + 24) % 24;
  return h >= 9 && h < 17 ? 40 : 5;
}

/** A Poisson-like count around `level` (normal approximation, at least 0). */
function noisy(level: number, rand: () => number): number {
  const u = Math.max(rand(), 1e-9);
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  return Math.max(0, Math.round(level + z * Math.sqrt(level)));
}

export function makeCase(kind: (typeof CASE_KINDS)[number], seed: number): LabelledSeries {
  const rand = prng(seed * 7919 + CASE_KINDS.indexOf(kind));
  const n = DAYS * DAY_POINTS;
  const change = CHANGE_DAY * DAY_POINTS + Math.floor(rand() * 3 * DAY_POINTS);
  const onsets: number[] = [];
  const spikes = new Set<number>();
  if (kind === 'spike') {
    for (let k = 0; k < 5; k++) spikes.add(CHANGE_DAY * DAY_POINTS + Math.floor(rand() * 6 * DAY_POINTS));
    onsets.push(...[...spikes].sort((a, b) => a - b));
  }
  const points: SeriesPoint[] = [];
  let seasonOnset = -1;
  for (let i = 0; i < n; i++) {
    let level = rhythm(i);
    if (i >= change) {
      if (kind === 'level-shift-up') level *= 3;
      else if (kind === 'level-shift-down') level *= 0.3;
      else if (kind === 'seasonality-change') {
        level = rhythm(i, 8);
        // The onset is the first point of the new pattern above the old one (busy 17–01 now).
        if (seasonOnset < 0 && level > rhythm(i)) seasonOnset = i;
      }
    }
    // A trend: the level grows by half over the last week (ordinary growth, nothing to flag).
    if (kind === 'trend' && i >= CHANGE_DAY * DAY_POINTS)
      level *= 1 + (0.5 * (i - CHANGE_DAY * DAY_POINTS)) / (7 * DAY_POINTS);
    let value = noisy(level, rand);
    if (spikes.has(i)) value = noisy(level, rand) + 400;
    points.push({ time: START + i * STEP, value });
  }
  if (kind === 'level-shift-up' || kind === 'level-shift-down') onsets.push(change);
  if (kind === 'seasonality-change') onsets.push(seasonOnset);
  return { name: `${kind}#${seed}`, kind, points, onsets };
}
