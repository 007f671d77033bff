import { describe, expect, it } from 'vitest';
import { parseSeriesCsv } from '../../src/cli/series.js';
import { scoreSeries } from '../../src/detect/series.js';
import { prng } from '../../src/cli/demo/workload.js';

const params = { threshold_sigmas: 6, history_per_slot: 8 };

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
    expect(scores.every((s) => s >= 0 && s <= 1)).toBe(true);
    expect(scores[spikeAt]).toBeGreaterThan(0.9);
    const normal = scores.filter((_, i) => i !== spikeAt && i > 288);
    expect(normal.filter((s) => s >= 0.5).length / normal.length).toBeLessThan(0.01);
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
  });
});
