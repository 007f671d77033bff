// The volume baseline over a plain `timestamp,value` series (regular or irregular), so users can
// tune it on their own metrics: each value is judged against the values seen before it in the
// same seasonal slot (hour of day, weekdays and weekends apart) with median and MAD, exactly as
// the volume-spike detector judges request counts, and enters the history winsorized.
import { median, medianAbsoluteDeviation } from 'simple-statistics';

export interface SeriesParams {
  /** Band width in robust σ. */
  readonly threshold_sigmas: number;
  /** Values kept per slot. */
  readonly history_per_slot: number;
}

export interface SeriesPoint {
  readonly time: number;
  readonly value: number;
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

/** Scores every point in input order (sorted by time internally); score in [0,1]. */
export function scoreSeries(points: SeriesPoint[], params: SeriesParams): number[] {
  const perSlot = Math.max(params.history_per_slot, 3);
  const slots: number[][] = Array.from({ length: SLOTS }, () => []);
  const recent: number[] = [];
  let countsLike = true;
  const order = points.map((_, i) => i).sort((a, b) => points[a]!.time - points[b]!.time);
  const scores = new Array<number>(points.length).fill(0);
  for (const i of order) {
    const { time, value } = points[i]!;
    const slot = slots[slotOf(time)]!;
    const history = slot.length >= 3 ? slot : recent.length >= 5 ? recent : undefined;
    let high = Number.POSITIVE_INFINITY;
    if (history) {
      const expected = median(history);
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
    const kept = Math.min(value, high);
    slot.push(kept);
    if (slot.length > perSlot) slot.shift();
    recent.push(kept);
    if (recent.length > GLOBAL_KEEP) recent.shift();
  }
  return scores;
}
