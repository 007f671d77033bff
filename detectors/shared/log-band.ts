// Baselines on the log scale: the band of a log ring's history (src/detect/state/layout.ts keeps the
// bytes), a value's score against it, and how an hour enters the history. Volumes are heavy-tailed,
// and "far above the norm" is a ratio, so robust statistics on log2 are the right scale.
import { median, medianAbsoluteDeviation } from 'simple-statistics';
import { LOG_STEPS, type LogRing, logOf, unlog } from '../../src/detect/state/layout.js';
import { byteMedianAndMad } from './byte-median.js';
import { MAD_TO_SIGMA, type WindowBand } from './scoring.js';

/** A band is never narrower than half a doubling either side (a flat history is not a promise). */
const MIN_LOG_SPREAD = LOG_STEPS / 2;
/** A baseline needs this many active hours before it judges anything. */
export const MIN_SAMPLES = 4;
/** Days a remembered peak keeps the band raised: a weekly job's level is normal the second week. */
export const RECUR_DAYS = 8;

/** A band on the log scale, with its edges translated back into natural units. */
export interface LogBand extends WindowBand {
  /** Median and robust spread of the history, in log units. */
  readonly center: number;
  readonly spread: number;
  /** Top of the band in log units: the statistical edge or the floor, raised by a recent peak. */
  readonly highLog: number;
  /** The statistical edge or the floor alone. */
  readonly statHighLog: number;
  /** Day (epoch days) of the recent peak that raised the band, or -1. */
  readonly peakDay: number;
  readonly samples: number;
}

/**
 * Closes an hour (or window) of a log ring. Its value enters the history clipped to the band's top
 * once the detector is warm, so an attack does not teach the baseline that it is normal; a value
 * over the band's statistical top is remembered as the ring's peak, so the same level recurring
 * within RECUR_DAYS (a weekly clean-up, a weekly export) fires the first time only.
 */
export function closeLogHour(
  ring: LogRing,
  b: Uint8Array,
  value: number,
  band: LogBand,
  day: number,
  warm: boolean,
): void {
  if (warm && logOf(value) > band.statHighLog) ring.setPeak(b, value, day);
  ring.push(b, warm ? Math.min(value, band.high) : value);
}

/**
 * The band of a ring on `day` (epoch days): median ± `thresholdSigmas` robust σ on the log scale,
 * its top never below `floor` (natural units: a quiet identity's band would otherwise fire on a
 * handful), and at least half a doubling above a peak the ring reached within RECUR_DAYS.
 */
export function logBand(
  ring: LogRing,
  b: Uint8Array,
  thresholdSigmas: number,
  floor: number,
  day: number,
): LogBand {
  const values = ring.view(b);
  const { median: center, mad } = byteMedianAndMad(values);
  return bandAround(center, mad, values.length, ring.peak(b), thresholdSigmas, floor, day);
}

/** `logBand` of log-quantized values and a peak held elsewhere (a tenant-wide ring, a test). */
export function bandOfValues(
  values: readonly number[],
  peak: { readonly level: number; readonly day: number },
  thresholdSigmas: number,
  floor: number,
  day: number,
): LogBand {
  const center = values.length ? median(values as number[]) : 0;
  const mad = values.length > 1 ? medianAbsoluteDeviation(values as number[]) : 0;
  return bandAround(center, mad, values.length, peak, thresholdSigmas, floor, day);
}

/** The band of a history with this median and MAD (log units) over `samples` values. */
function bandAround(
  center: number,
  mad: number,
  samples: number,
  peak: { readonly level: number; readonly day: number },
  thresholdSigmas: number,
  floor: number,
  day: number,
): LogBand {
  const spread = Math.max(MIN_LOG_SPREAD, MAD_TO_SIGMA * mad);
  const statHighLog = Math.max(center + thresholdSigmas * spread, logOf(floor));
  const recurring =
    peak.level > 0 && day - peak.day <= RECUR_DAYS && peak.level + LOG_STEPS / 2 > statHighLog;
  const highLog = recurring ? peak.level + LOG_STEPS / 2 : statHighLog;
  return {
    center,
    spread,
    highLog,
    statHighLog,
    peakDay: recurring ? peak.day : -1,
    samples,
    expected: unlog(center),
    sigma: unlog(center + spread) - unlog(center),
    low: unlog(Math.max(0, center - thresholdSigmas * spread)),
    high: unlog(highLog),
  };
}

/** The baseline period of a log band, for a finding: how much history, and a recurring peak if any. */
export function describeLogBaseline(band: LogBand, firstHour: number, what = 'active hours'): string {
  const since = new Date(firstHour * 3_600_000).toISOString().slice(0, 10);
  const peak =
    band.peakDay >= 0
      ? `; band raised to a level first reached on ${new Date(band.peakDay * 86_400_000).toISOString().slice(0, 10)} (recurring)`
      : '';
  return `${band.samples} ${what} of history since ${since}${peak}`;
}

/**
 * Halfway (on the log scale) between the band's centre and its top: above it a window is worth
 * keeping evidence for, in case it goes on to cross the band.
 */
export function watchLevel(band: LogBand): number {
  return unlog((band.center + band.highLog) / 2);
}

/**
 * Score of a value against a log band: rising linearly to 0.5 at the band's top, then towards 1
 * by doublings over the top — e^-1 of the remaining half per two doublings (or per two robust σ
 * when the history is noisier than that). The excess is measured from the top, not in band widths:
 * a floor far above a quiet identity's usual must not make a 30-fold excess look mild.
 */
export function logScore(observed: number, band: LogBand): number {
  const x = logOf(observed);
  if (x <= band.center) return 0;
  if (x <= band.highLog) return 0.5 * ((x - band.center) / Math.max(1e-9, band.highLog - band.center));
  const scale = Math.max(2 * band.spread, 2 * LOG_STEPS);
  return 1 - 0.5 * Math.exp(-(x - band.highLog) / scale);
}
