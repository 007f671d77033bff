// Scores, severities and the plain-language pieces every detector's explanation is made of.
import type { IdentityHistory } from '../../src/detect/index.js';
import type { Severity } from '../../src/model/index.js';

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** 1.4826 × MAD estimates σ for normally distributed data. */
export const MAD_TO_SIGMA = 1.4826;

/** What a detector considers normal for a value: the centre, its spread and the band around it. */
export interface WindowBand {
  readonly expected: number;
  readonly sigma: number;
  readonly low: number;
  readonly high: number;
}

/** Score in [0,1]: 0.5 at the band's edge, rising towards 1 as the excess grows. */
export function anomalyScore(observed: number, band: WindowBand, thresholdSigmas: number): number {
  const z = (observed - band.expected) / band.sigma;
  if (z <= 0) return 0;
  if (z < thresholdSigmas) return 0.5 * (z / thresholdSigmas);
  return 1 - 0.5 * Math.exp(-(z - thresholdSigmas) / thresholdSigmas);
}

/**
 * Score in [0,1] for a count against a ceiling rather than a spread (distinct actors on a
 * credential, say): 0.5 at the ceiling, rising towards 1 by how many ceilings it is over.
 */
export function excessScore(observed: number, high: number): number {
  const unit = Math.max(1, high);
  if (observed <= high) return Math.max(0, 0.5 * (observed / unit));
  return 1 - 0.5 * Math.exp(-(observed - high) / unit);
}

export function severityOf(score: number): Severity {
  if (score >= 0.9) return 'critical';
  if (score >= 0.75) return 'high';
  if (score >= 0.6) return 'medium';
  return 'low';
}

export const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

export function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** A count as an analyst reads it at a glance: 950, 12.5k, 220k, 1.3M. */
export function fmtCompact(n: number): string {
  const a = Math.abs(n);
  const short = (v: number, unit: string) => `${v >= 100 ? Math.round(v) : Math.round(v * 10) / 10}${unit}`;
  if (a >= 1e9) return short(n / 1e9, 'B');
  if (a >= 1e6) return short(n / 1e6, 'M');
  if (a >= 1e4) return short(n / 1e3, 'k');
  return fmt(n);
}

/** A login attempt that failed: an auth operation or a 401, not allowed (a 403 on a query is not a guess). */
export function isFailedLogin(e: { operation: string; outcome: string; status_code: number }): boolean {
  return e.outcome !== 'allowed' && (e.operation === 'auth' || e.status_code === 401);
}

/** `1 identity`, `2 identities` (the count formatted as `fmt` does). */
export function plural(n: number, one: string, many: string): string {
  return `${fmt(n)} ${Math.round(n) === 1 ? one : many}`;
}

/** Like `fmt`, with one decimal for small values (an expected 0.4 should not read as 0). */
export function fmtSmall(n: number): string {
  if (Math.abs(n) >= 10) return fmt(n);
  return String(Math.round(n * 10) / 10);
}

export function pct(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}

/** `2026-11-09T10:15Z` */
export function isoMinute(time: number): string {
  return `${new Date(time).toISOString().slice(0, 16)}Z`;
}

/** `Monday 10:00` (UTC). */
export function weekdayHour(time: number): string {
  const d = new Date(time);
  return `${WEEKDAYS[d.getUTCDay()]} ${String(d.getUTCHours()).padStart(2, '0')}:00`;
}

/** Hour of day × {weekday, weekend}, UTC: 0–23 weekdays, 24–47 weekends. */
export function slotOf(time: number): number {
  const d = new Date(time);
  const weekend = d.getUTCDay() === 0 || d.getUTCDay() === 6;
  return (weekend ? 24 : 0) + d.getUTCHours();
}

/** `1.2 GB` */
export function fmtBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? fmt(v) : v.toFixed(1)} ${units[u]}`;
}

/**
 * Events per day implied by a count decayed with the given half-life (a steady rate r a day
 * settles at r / (1 − 2^(−1/halfLifeDays))).
 */
export function decayedRatePerDay(count: number, halfLifeDays: number): number {
  return count * (1 - 2 ** (-1 / halfLifeDays));
}

/** `count` decayed from hour `fromHour` to hour `toHour`. */
export function decay(count: number, fromHour: number, toHour: number, halfLifeHours: number): number {
  if (count === 0 || toHour <= fromHour) return count;
  return count * 2 ** (-(toHour - fromHour) / halfLifeHours);
}

export function hourIndex(time: number): number {
  return Math.floor(time / HOUR);
}

/**
 * The hour index where a bootstrapped identity's history starts: the earlier of `hour` (where the
 * part a detector replays starts) and its first window count — the hourly rows keep an identity's
 * most recent hours only, its window counts reach back to its first request in the lookback, which
 * is where its warm-up began.
 */
export function historyStartHour(history: IdentityHistory, hour: number): number {
  return Math.min(hour, hourIndex(history.rows[0]?.start ?? Number.POSITIVE_INFINITY));
}

export function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}
