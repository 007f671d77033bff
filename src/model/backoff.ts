// Retry delays: the one backoff every retry loop in vigil uses (bus redelivery, store inserts,
// audit chain appends, export delivery, responder actions). Pure; each caller keeps its own
// numbers as a `Backoff` next to its loop.
//
// Attempt numbering: `attempt` is the retry about to be made, so attempt 1 is the first retry (the
// wait after the first failure). Its delay ceiling is `baseMs`, doubling per attempt up to `capMs`:
//   ceiling(attempt) = min(capMs, baseMs · 2^(attempt − 1))
// Attempt 0 and below are taken as 1.

/** How a retry loop waits. */
export interface Backoff {
  /** The first retry's delay (its ceiling, with jitter). */
  readonly baseMs: number;
  /** No delay is longer than this. */
  readonly capMs: number;
  /**
   * `none`: the ceiling itself. `equal`: uniform between half the ceiling and the ceiling, so that
   * many callers failing together do not retry together, yet each waits at least half.
   * @defaultValue 'none'
   */
  readonly jitter?: 'none' | 'equal';
}

/**
 * Past this many doublings every ceiling is far above any cap; bounding the exponent keeps a zero
 * base at 0 (instead of 0 · Infinity = NaN).
 */
const MAX_DOUBLINGS = 64;

/** The delay before retry `attempt` (1 = the first retry), in ms. */
export function backoffDelayMs(
  attempt: number,
  backoff: Backoff,
  random: () => number = Math.random,
): number {
  const doublings = Math.min(MAX_DOUBLINGS, Math.max(0, attempt - 1));
  const ceiling = Math.min(backoff.capMs, backoff.baseMs * 2 ** doublings);
  return backoff.jitter === 'equal' ? Math.round(ceiling * (0.5 + random() * 0.5)) : ceiling;
}
