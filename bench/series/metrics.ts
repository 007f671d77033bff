// Onset-level quality of a series scorer. A point is flagged when its score reaches `flagAt`
// (0.5 is the band's edge, where the volume-spike detector fires). An alarm is the first point of
// a run of flagged points. An onset is detected when a point in [onset, onset + tolerance] is
// flagged; an alarm is true when it starts in such a window. So a level shift flagged for hours
// counts as one alarm, but a score that keeps falling under and rising over the band after the
// onset makes false alarms, and the share of flagged points shows how long it stays up.

export interface OnsetCounts {
  points: number;
  flagged: number;
  /** Points at a score ≥ 0.99 (the figure the issue quoted). */
  flagged99: number;
  onsets: number;
  detected: number;
  alarms: number;
  trueAlarms: number;
}

export function countOnsets(
  scores: ReadonlyArray<number | null>,
  onsets: readonly number[],
  tolerance: number,
  flagAt = 0.5,
): OnsetCounts {
  const isFlagged = (i: number) => (scores[i] ?? 0) >= flagAt;
  const inWindow = (i: number) => onsets.some((o) => i >= o && i <= o + tolerance);
  const c: OnsetCounts = {
    points: scores.length,
    flagged: 0,
    flagged99: 0,
    onsets: onsets.length,
    detected: 0,
    alarms: 0,
    trueAlarms: 0,
  };
  for (let i = 0; i < scores.length; i++) {
    if ((scores[i] ?? 0) >= 0.99) c.flagged99++;
    if (!isFlagged(i)) continue;
    c.flagged++;
    if (i > 0 && isFlagged(i - 1)) continue;
    c.alarms++;
    if (inWindow(i)) c.trueAlarms++;
  }
  for (const o of onsets) {
    for (let i = o; i <= Math.min(o + tolerance, scores.length - 1); i++)
      if (isFlagged(i)) {
        c.detected++;
        break;
      }
  }
  return c;
}

export function addCounts(a: OnsetCounts, b: OnsetCounts): OnsetCounts {
  return {
    points: a.points + b.points,
    flagged: a.flagged + b.flagged,
    flagged99: a.flagged99 + b.flagged99,
    onsets: a.onsets + b.onsets,
    detected: a.detected + b.detected,
    alarms: a.alarms + b.alarms,
    trueAlarms: a.trueAlarms + b.trueAlarms,
  };
}

export const ZERO: OnsetCounts = {
  points: 0,
  flagged: 0,
  flagged99: 0,
  onsets: 0,
  detected: 0,
  alarms: 0,
  trueAlarms: 0,
};

/** The counts with precision, recall and flagged shares (null where undefined: no alarms, no onsets). */
export function summarize(c: OnsetCounts) {
  const r = (x: number) => Math.round(x * 10_000) / 10_000;
  return {
    ...c,
    precision: c.alarms ? r(c.trueAlarms / c.alarms) : null,
    recall: c.onsets ? r(c.detected / c.onsets) : null,
    flagged_share: r(c.flagged / Math.max(1, c.points)),
    flagged99_share: r(c.flagged99 / Math.max(1, c.points)),
  };
}
