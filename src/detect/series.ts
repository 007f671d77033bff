// The volume baseline over a plain `timestamp,value` series (regular or irregular), so users can
// tune it on their own metrics: each value is judged against the values seen before it in the
// same seasonal slot (hour of day, weekdays and weekends apart) with median and MAD, exactly as
// the volume-spike detector judges request counts, and enters the history winsorized. A run of
// `adapt_after` values above the band is a level shift: the history moves up by the run's mean
// excess (detectors/shared/level-shift.ts), so a lasting change is flagged at its onset and on at
// most `adapt_after` rows, while a burst shorter than that stays anomalous and is not learned.
import { median, medianAbsoluteDeviation } from 'simple-statistics';
import { type ShiftRun, trackShift } from '../../detectors/shared/level-shift.js';

export interface SeriesParams {
  /** Band width in robust σ. */
  readonly threshold_sigmas: number;
  /** Values kept per slot. */
  readonly history_per_slot: number;
  /** Consecutive values above the band after which the baseline re-centres; 0 never adapts. */
  readonly adapt_after: number;
}

export interface SeriesPoint {
  readonly time: number;
  /** null: unknown (a gap in the metric); it gets no score and is not learned. */
  readonly value: number | null;
}

const SLOTS = 48;
const MAD_TO_SIGMA = 1.4826;
const GLOBAL_KEEP = 64;

function slotOf(time: number): number {
  const d = new Date(time);
  return (d.getUTCDay() === 0 || d.getUTCDay() === 6 ? 24 : 0) + d.getUTCHours();
}

/** 0 at or below the expected value, 0.5 at the band's edge, towards 1 beyond it. */
export function seriesScore(value: number, expected: number, sigma: number, threshold: number): number {
  const z = (value - expected) / sigma;
  if (!(z > 0)) return 0;
  if (z < threshold) return 0.5 * (z / threshold);
  return 1 - 0.5 * Math.exp(-(z - threshold) / threshold);
}

/** A value of the current run above the band, held until the run ends or completes. */
interface Held {
  readonly slot: number;
  readonly value: number;
  readonly clipped: number;
}

/**
 * Scores every point in input order (sorted by time internally); score in [0,1], null for an
 * unknown value.
 */
export function scoreSeries(points: readonly SeriesPoint[], params: SeriesParams): Array<number | null> {
  const perSlot = Math.max(params.history_per_slot, 3);
  const slots: number[][] = Array.from({ length: SLOTS }, () => []);
  const recent: number[] = [];
  const shift: ShiftRun = { run: 0, excess: 0 };
  // The run's values wait here: if the run breaks they enter winsorized (a burst is not learned);
  // if it completes they enter as they were, on top of the shifted history.
  let held: Held[] = [];
  let countsLike = true;
  const order = points.map((_, i) => i).sort((a, b) => points[a]!.time - points[b]!.time);
  const scores = new Array<number | null>(points.length).fill(0);

  const learn = (slot: number, value: number) => {
    const ring = slots[slot]!;
    ring.push(value);
    if (ring.length > perSlot) ring.shift();
    recent.push(value);
    if (recent.length > GLOBAL_KEEP) recent.shift();
  };

  for (const i of order) {
    const { time, value } = points[i]!;
    if (value === null) {
      scores[i] = null;
      continue;
    }
    const slot = slotOf(time);
    const ring = slots[slot]!;
    const history = ring.length >= 3 ? ring : recent.length >= 5 ? recent : undefined;
    let expected = value;
    let high = Number.POSITIVE_INFINITY;
    if (history) {
      expected = median(history);
      const spread = history.length > 1 ? MAD_TO_SIGMA * medianAbsoluteDeviation(history) : 0;
      // Counts are Poisson-noisy at least; any series gets a floor relative to its level.
      const sigma = Math.max(
        spread,
        countsLike ? Math.sqrt(Math.max(expected, 0)) : 0,
        0.01 * Math.abs(expected),
        1e-6,
      );
      scores[i] = seriesScore(value, expected, sigma, params.threshold_sigmas);
      high = expected + params.threshold_sigmas * sigma;
    }
    countsLike &&= Number.isInteger(value) && value >= 0;
    const above = value > high;
    const by = trackShift(shift, above, value - expected, params.adapt_after);
    if (by > 0) {
      for (const r of slots) for (let k = 0; k < r.length; k++) r[k]! += by;
      for (let k = 0; k < recent.length; k++) recent[k]! += by;
      for (const h of held) learn(h.slot, h.value);
      learn(slot, value);
      held = [];
    } else if (above && params.adapt_after > 0) {
      held.push({ slot, value, clipped: high });
    } else {
      for (const h of held) learn(h.slot, h.clipped);
      held = [];
      learn(slot, Math.min(value, high));
    }
  }
  // A run still open at the end is a burst so far: nothing more is scored, so nothing to learn.
  return scores;
}
