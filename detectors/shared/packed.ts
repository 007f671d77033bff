// Packed per-entity state. A typed array costs ~200 bytes of V8 bookkeeping whatever its length,
// so each detector keeps all its small arrays in ONE Uint8Array, laid out at fixed offsets:
//
// - log rings: the last H active hours of a value, log-quantized to one byte (8 steps per
//   doubling, ~9 % resolution, up to 2^32): volumes are heavy-tailed, and "far above the norm"
//   is a ratio, so robust statistics on log2 are the right scale;
// - bitmaps: distinct counts by linear counting (exact enough for tens, good to ~1,000 at 32 B);
// - recent sets: 16-bit hashes with a 16-bit last-seen hour, the least recently seen evicted.
import { median, medianAbsoluteDeviation } from 'simple-statistics';
import { mix32 } from './hash.js';
import { MAD_TO_SIGMA, type WindowBand } from './scoring.js';

export function get16(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8);
}

export function set16(b: Uint8Array, i: number, v: number): void {
  b[i] = v & 0xff;
  b[i + 1] = (v >>> 8) & 0xff;
}

// ---------------------------------------------------------------- log rings

/** Quantization steps per doubling. */
export const LOG_STEPS = 8;
const LOG_MAX = 255;
/** A band is never narrower than half a doubling either side (a flat history is not a promise). */
const MIN_LOG_SPREAD = LOG_STEPS / 2;
/** A baseline needs this many active hours before it judges anything. */
export const MIN_SAMPLES = 4;

export function logOf(x: number): number {
  return LOG_STEPS * Math.log2(1 + Math.max(0, x));
}

export function unlog(q: number): number {
  return 2 ** (q / LOG_STEPS) - 1;
}

/**
 * A ring is [filled, next, peak, peak day (2 bytes), values…]: the last `hours` values, and the
 * last level that went over the band (log-quantized) with the day it did.
 */
const RING_HEADER = 5;
/** Days a remembered peak keeps the band raised: a weekly job's level is normal the second week. */
export const RECUR_DAYS = 8;

export function ringBytes(hours: number): number {
  return hours + RING_HEADER;
}

function quantize(value: number): number {
  return Math.min(LOG_MAX, Math.round(logOf(value)));
}

/** Appends one hour's value (natural units) to the ring at `off`. */
export function ringPush(b: Uint8Array, off: number, hours: number, value: number): void {
  append(b, off, hours, quantize(value));
}

/** Appends a small count as is (capped at 255): for baselines of maxima, where log steps blur 2 vs 3. */
export function ringPushRaw(b: Uint8Array, off: number, hours: number, value: number): void {
  append(b, off, hours, Math.min(255, Math.max(0, Math.round(value))));
}

function append(b: Uint8Array, off: number, hours: number, stored: number): void {
  const next = b[off + 1]!;
  b[off + RING_HEADER + next] = stored;
  b[off + 1] = (next + 1) % hours;
  b[off] = Math.min(hours, b[off]! + 1);
}

/**
 * Closes an hour (or window) of a log ring. Its value enters the history clipped to the band's top
 * once the detector is warm, so an attack does not teach the baseline that it is normal; a value
 * over the band's statistical top is remembered as the ring's peak, so the same level recurring
 * within RECUR_DAYS (a weekly clean-up, a weekly export) fires the first time only.
 */
export function ringClose(
  b: Uint8Array,
  off: number,
  hours: number,
  value: number,
  band: LogBand,
  day: number,
  warm: boolean,
): void {
  if (warm && logOf(value) > band.statHighLog) {
    b[off + 2] = quantize(value);
    set16(b, off + 3, day);
  }
  ringPush(b, off, hours, warm ? Math.min(value, band.high) : value);
}

export function ringMax(b: Uint8Array, off: number): number {
  let m = 0;
  for (const v of ringValues(b, off)) m = Math.max(m, v);
  return m;
}

export function ringSamples(b: Uint8Array, off: number): number {
  return b[off]!;
}

/** The ring's values as stored (log-quantized, or raw for `ringPushRaw`). */
export function ringValues(b: Uint8Array, off: number): number[] {
  return Array.from(b.subarray(off + RING_HEADER, off + RING_HEADER + b[off]!));
}

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
 * The band of a ring on `day` (epoch days): median ± `thresholdSigmas` robust σ on the log scale,
 * its top never below `floor` (natural units: a quiet identity's band would otherwise fire on a
 * handful), and at least half a doubling above a peak the ring reached within RECUR_DAYS.
 */
export function logBand(
  b: Uint8Array,
  off: number,
  thresholdSigmas: number,
  floor: number,
  day: number,
): LogBand {
  const values = ringValues(b, off);
  const center = values.length ? median(values) : 0;
  const mad = values.length > 1 ? medianAbsoluteDeviation(values) : 0;
  const spread = Math.max(MIN_LOG_SPREAD, MAD_TO_SIGMA * mad);
  const statHighLog = Math.max(center + thresholdSigmas * spread, logOf(floor));
  const peak = b[off + 2]!;
  const peakDay = get16(b, off + 3);
  const recurring = peak > 0 && day - peakDay <= RECUR_DAYS && peak + LOG_STEPS / 2 > statHighLog;
  const highLog = recurring ? peak + LOG_STEPS / 2 : statHighLog;
  return {
    center,
    spread,
    highLog,
    statHighLog,
    peakDay: recurring ? peakDay : -1,
    samples: values.length,
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

// ---------------------------------------------------------------- bitmaps (linear counting)

/** Sets the hash's bit; true when the bit was new (the distinct count may have grown). */
export function bitmapAdd(b: Uint8Array, off: number, bytes: number, h: number): boolean {
  const bit = mix32(h) % (bytes * 8);
  const i = off + (bit >>> 3);
  const mask = 1 << (bit & 7);
  if (b[i]! & mask) return false;
  b[i] = b[i]! | mask;
  return true;
}

/** Linear-counting estimate of the distinct values added: m · ln(m / zero bits). */
export function bitmapEstimate(b: Uint8Array, off: number, bytes: number): number {
  const m = bytes * 8;
  let ones = 0;
  for (let i = off; i < off + bytes; i++) {
    let x = b[i]!;
    while (x) {
      ones += x & 1;
      x >>>= 1;
    }
  }
  const zeros = m - ones;
  return zeros === 0 ? m * Math.log(m) : m * Math.log(m / zeros);
}

export function clearBytes(b: Uint8Array, off: number, bytes: number): void {
  b.fill(0, off, off + bytes);
}

// ---------------------------------------------------------------- recent sets (LRU of hashes)

/** A set of `cap` (16-bit hash, 16-bit last-seen) pairs. */
export function setBytes(cap: number): number {
  return cap * 4;
}

export function setFind(b: Uint8Array, off: number, cap: number, h: number): number {
  for (let i = 0; i < cap; i++) if (get16(b, off + 4 * i) === h) return i;
  return -1;
}

/** The hashes in the set. */
export function setKeys(b: Uint8Array, off: number, cap: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < cap; i++) {
    const key = get16(b, off + 4 * i);
    if (key !== 0) out.push(key);
  }
  return out;
}

export function setSize(b: Uint8Array, off: number, cap: number): number {
  let n = 0;
  for (let i = 0; i < cap; i++) if (get16(b, off + 4 * i) !== 0) n++;
  return n;
}

/**
 * Records `h` as seen at `stamp` (a small clock, e.g. hours since the state began, saturating at
 * 65,535); true when it was not in the set. A full set forgets its least recently seen entry.
 */
export function setTouch(b: Uint8Array, off: number, cap: number, h: number, stamp: number): boolean {
  const s = Math.min(0xffff, Math.max(0, stamp));
  let victim = 0;
  let oldest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < cap; i++) {
    const at = off + 4 * i;
    const key = get16(b, at);
    if (key === h) {
      set16(b, at + 2, s);
      return false;
    }
    const seen = key === 0 ? -1 : get16(b, at + 2);
    if (seen < oldest) {
      oldest = seen;
      victim = i;
    }
  }
  set16(b, off + 4 * victim, h);
  set16(b, off + 4 * victim + 2, s);
  return true;
}

/**
 * Renames `from` to `to` in a recent set (a token re-keyed by a tokenization key rotation keeps
 * its history); true when `from` was there.
 */
export function setRename(b: Uint8Array, off: number, cap: number, from: number, to: number): boolean {
  const i = setFind(b, off, cap, from);
  if (i < 0) return false;
  set16(b, off + 4 * i, to);
  return true;
}

/** Like `setRename`, for a small exact set. */
export function smallSetRename(b: Uint8Array, off: number, cap: number, from: number, to: number): boolean {
  for (let i = 0; i < cap; i++) {
    if (get16(b, off + 2 * i) === from) {
      set16(b, off + 2 * i, to);
      return true;
    }
  }
  return false;
}

/** A small exact set of 16-bit hashes (0 = empty); `'full'` when it has no room left. */
export function smallSetAdd(b: Uint8Array, off: number, cap: number, h: number): 'new' | 'known' | 'full' {
  for (let i = 0; i < cap; i++) {
    const key = get16(b, off + 2 * i);
    if (key === h) return 'known';
    if (key === 0) {
      set16(b, off + 2 * i, h);
      return 'new';
    }
  }
  return 'full';
}

// ---------------------------------------------------------------- allocation

/**
 * A zeroed byte buffer for a detector state. One place to decide how states get their bytes: not
 * from shared slabs — the runtime packs idle entities' states (src/detect/cold-state.ts) and drops
 * the live objects, and a slab would keep every dropped state's bytes.
 */
export function allocState(bytes: number): Uint8Array {
  return new Uint8Array(bytes);
}
