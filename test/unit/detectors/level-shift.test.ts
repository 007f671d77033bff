import { describe, expect, it } from 'vitest';
import { type ShiftRun, trackShift } from '../../../detectors/shared/level-shift.js';

describe('trackShift: a run of points above the band', () => {
  it('returns the run’s mean excess on the point that completes it, and starts over', () => {
    const run: ShiftRun = { run: 0, excess: 0 };
    expect([10, 20, 30].map((x) => trackShift(run, true, x, 3))).toEqual([0, 0, 20]);
    expect(run).toEqual({ run: 0, excess: 0 });
  });

  it('is broken by a point inside the band', () => {
    const run: ShiftRun = { run: 0, excess: 0 };
    trackShift(run, true, 10, 3);
    trackShift(run, true, 10, 3);
    expect(trackShift(run, false, 0, 3)).toBe(0);
    expect(run).toEqual({ run: 0, excess: 0 });
    expect(trackShift(run, true, 10, 3)).toBe(0);
  });

  it('never adapts with adaptAfter 0', () => {
    const run: ShiftRun = { run: 0, excess: 0 };
    for (let i = 0; i < 100; i++) expect(trackShift(run, true, 50, 0)).toBe(0);
  });
});
