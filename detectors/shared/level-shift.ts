// Change-point aware adaptation for the robust baselines. An anomalous point enters a baseline
// clipped to the band's edge, so a burst does not teach it that the burst is normal; but a change
// that lasts (a new nightly job, a migration that doubles an identity's traffic for good) would
// then be flagged for as long as it lasts. A run of `adaptAfter` consecutive points above the band
// is taken as a level shift: the baseline moves up by the run's mean excess over its expected
// value, so the change fires at its onset and on at most `adaptAfter` points, then stops.
//
// Only excesses count: the scores are one-sided (a drop is not a threat), and values below the
// band enter the history unclipped, so a baseline follows a drop on its own.

/** The current run of consecutive points above the band (both 0 outside a run). */
export interface ShiftRun {
  /** Consecutive points above the band so far. */
  run: number;
  /** Sum over the run of (value − expected). */
  excess: number;
}

/**
 * Records one judged point. Returns the shift to apply to the baseline when this point completes
 * a run of `adaptAfter` (and starts a new run), else 0. `adaptAfter` 0 never adapts.
 */
export function trackShift(state: ShiftRun, above: boolean, excess: number, adaptAfter: number): number {
  if (!above || adaptAfter <= 0) {
    state.run = 0;
    state.excess = 0;
    return 0;
  }
  state.run++;
  state.excess += excess;
  if (state.run < adaptAfter) return 0;
  const shift = state.excess / state.run;
  state.run = 0;
  state.excess = 0;
  return shift;
}
