import { describe, expect, it } from 'vitest';
import { parseSeriesCsv } from '../../../src/cli/series.js';
import { scoreSeries } from '../../../src/detect/series.js';
import { prng } from '../../../src/cli/demo/workload.js';

const params = { threshold_sigmas: 6, history_per_slot: 8, adapt_after: 6 };

describe('volume baseline over a timestamp,value series', () => {
  const rand = prng(9);
  const start = Date.UTC(2026, 9, 5);
  // 14 days at 10-minute steps: a daily rhythm (busy 9–17 UTC) with noise.
  const points = Array.from({ length: 14 * 144 }, (_, i) => {
    const time = start + i * 600_000;
    const h = new Date(time).getUTCHours();
    const level = h >= 9 && h < 17 ? 40 : 5;
    return { time, value: Math.round(level + (rand() - 0.5) * 2 * Math.sqrt(level)) };
  });
  const spikeAt = points.length - 50;
  points[spikeAt] = { ...points[spikeAt]!, value: 400 };

  it('scores one value per row in [0,1] and flags the spike', () => {
    const scores = scoreSeries(points, params);
    expect(scores).toHaveLength(points.length);
    expect(scores.every((s) => s !== null && s >= 0 && s <= 1)).toBe(true);
    expect(scores[spikeAt]).toBeGreaterThan(0.9);
    const normal = scores.filter((_, i) => i !== spikeAt && i > 288);
    expect(normal.filter((s) => s! >= 0.5).length / normal.length).toBeLessThan(0.01);
  });

  it('keeps input order for shuffled and irregular timestamps', () => {
    const irregular = points.slice(0, 600).map((p, i) => ({ ...p, time: p.time + (i % 7) * 13_000 }));
    const shuffled = [...irregular].reverse();
    const a = scoreSeries(irregular, params);
    const b = scoreSeries(shuffled, params);
    expect(b).toEqual([...a].reverse());
  });

  it('does not learn the spike: the same spike a day later still scores high', () => {
    const copy = [...points];
    copy[spikeAt - 144] = { ...copy[spikeAt - 144]!, value: 400 };
    const scores = scoreSeries(copy, params);
    expect(scores[spikeAt - 144]).toBeGreaterThan(0.9);
    expect(scores[spikeAt]).toBeGreaterThan(0.9);
  });

  it('parses ISO and epoch timestamps and names the bad line', () => {
    const { rows } = parseSeriesCsv(
      'timestamp,value\n2026-10-05T00:00:00Z,3\n1791158400,4\n1791158400000,5\n',
    );
    expect(rows.map((r) => r.point.value)).toEqual([3, 4, 5]);
    expect(rows[1]!.point.time).toBe(1791158400000);
    expect(() => parseSeriesCsv('timestamp,value\nnot-a-time,3\n')).toThrow(/line 2: timestamp/);
    expect(() => parseSeriesCsv('time,v\n')).toThrow(/header/);
    expect(() => parseSeriesCsv('timestamp,value\n1791158400,abc\n')).toThrow(/line 2: value/);
  });

  it('reads an empty, null or NaN value as unknown', () => {
    const { rows } = parseSeriesCsv(
      'timestamp,value\n1791158400,\n1791158460,null\n1791158520,NaN\n1791158580,2\n',
    );
    expect(rows.map((r) => r.point.value)).toEqual([null, null, null, 2]);
  });
});

describe('the series scorer adapts to a level shift', () => {
  const start = Date.UTC(2026, 9, 5);
  const STEP = 600_000;
  const flat = (n: number, level: number, from = 0) =>
    Array.from({ length: n }, (_, i) => ({
      time: start + (from + i) * STEP,
      value: level + ((from + i) % 3),
    }));
  // Seven days at ~20, then for good at ~120.
  const before = flat(7 * 144, 20);
  const shifted = [...before, ...flat(2 * 144, 120, before.length)];
  const flagged = (scores: Array<number | null>) =>
    scores.flatMap((s, i) => (s !== null && s >= 0.5 ? [i - before.length] : []));

  it('flags the onset and at most `adapt_after` points after it', () => {
    expect(flagged(scoreSeries(shifted, params))).toEqual([0, 1, 2, 3, 4, 5]);
    expect(flagged(scoreSeries(shifted, { ...params, adapt_after: 3 }))).toEqual([0, 1, 2]);
  });

  it('without adaptation (adapt_after 0) flags the shift for hours (winsorized values creep up slowly)', () => {
    expect(flagged(scoreSeries(shifted, { ...params, adapt_after: 0 })).length).toBeGreaterThan(90);
  });

  it('still flags a spike after it adapted, and a burst shorter than the window is not learned', () => {
    const copy = shifted.map((p) => ({ ...p }));
    const burstAt = before.length + 100;
    for (let k = 0; k < 5; k++) copy[burstAt + k] = { ...copy[burstAt + k]!, value: 900 };
    copy[burstAt + 60] = { ...copy[burstAt + 60]!, value: 900 };
    const got = flagged(scoreSeries(copy, params));
    expect(got).toEqual([0, 1, 2, 3, 4, 5, 100, 101, 102, 103, 104, 160]);
  });

  it('does not learn unknown values: a gap of nulls leaves the baseline and the run as they were', () => {
    const withGap = shifted.map((p, i) =>
      i >= before.length + 2 && i < before.length + 40 ? { ...p, value: null } : p,
    );
    const scores = scoreSeries(withGap, params);
    expect(scores.slice(before.length + 2, before.length + 40).every((s) => s === null)).toBe(true);
    // The run of two before the gap continues after it: four more flagged points, then adapted.
    expect(flagged(scores)).toEqual([0, 1, 40, 41, 42, 43]);
    // A gap of zeros instead would be learned as values (and break the run).
    const withZeros = shifted.map((p, i) =>
      i >= before.length + 2 && i < before.length + 40 ? { ...p, value: 0 } : p,
    );
    expect(flagged(scoreSeries(withZeros, params))).not.toEqual([0, 1, 40, 41, 42, 43]);
  });
});
