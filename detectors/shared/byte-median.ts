// Median and median absolute deviation of byte values (a ring's stored values) by counting, with
// no array made: a band is computed on every event an identity sends, and sorting copies of its
// history (simple-statistics copies and selects three times for the pair) was a measurable share
// of detection. The numbers are exactly simple-statistics' `median` and
// `medianAbsoluteDeviation` of the same values (type-7 quantile at 0.5, the same arithmetic),
// which a property test holds (test/unit/detectors/byte-median.test.ts).

/** Counts per byte value; all zero between calls. */
const counts = new Uint32Array(256);

/** The `k`-th smallest (0-based) of the counted values in [lo, hi]. */
function kth(k: number, lo: number, hi: number): number {
  let seen = 0;
  for (let v = lo; v <= hi; v++) {
    seen += counts[v]!;
    if (seen > k) return v;
  }
  return hi;
}

/** The `k`-th smallest (0-based) of |v − center| over the counted values in [lo, hi]. */
function kthDeviation(k: number, center: number, lo: number, hi: number): number {
  // Walk outward from the centre, taking the nearer side first: deviations in ascending order.
  let left = Math.min(hi, Math.floor(center));
  let right = left + 1;
  let seen = 0;
  for (;;) {
    const dl = left >= lo ? center - left : Number.POSITIVE_INFINITY;
    const dr = right <= hi ? right - center : Number.POSITIVE_INFINITY;
    if (dl === Number.POSITIVE_INFINITY && dr === Number.POSITIVE_INFINITY) return 0;
    let d: number;
    if (dl <= dr) {
      d = dl;
      seen += counts[left--]!;
    } else {
      d = dr;
      seen += counts[right++]!;
    }
    if (seen > k) return Math.abs(d);
  }
}

/** Type-7 quantile at 0.5 from two order statistics, in simple-statistics' arithmetic. */
function halfway(n: number, at: (k: number) => number): number {
  const idx = (n - 1) * 0.5;
  if (idx % 1 === 0) return at(idx);
  const lower = at(Math.floor(idx));
  return lower + 0.5 * (at(Math.ceil(idx)) - lower);
}

/**
 * Median and median absolute deviation of `values` (0 and 0 for none; the deviation is 0 for one
 * value), as simple-statistics computes them.
 */
export function byteMedianAndMad(values: Uint8Array): { median: number; mad: number } {
  const n = values.length;
  if (n === 0) return { median: 0, mad: 0 };
  let lo = 255;
  let hi = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    counts[v]!++;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const median = halfway(n, (k) => kth(k, lo, hi));
  const mad = n > 1 ? halfway(n, (k) => kthDeviation(k, median, lo, hi)) : 0;
  counts.fill(0, lo, hi + 1);
  return { median, mad };
}
