// Durations in configuration: a unit suffix or plain milliseconds.
import { describe, expect, it } from 'vitest';
import { duration, parseDuration } from '../../../src/config/duration.js';

describe('parseDuration', () => {
  it.each<[string | number, number]>([
    ['250ms', 250],
    ['10s', 10_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['7d', 604_800_000],
    ['1.5s', 1_500],
    ['0.5m', 30_000],
    ['100', 100],
    [' 10 s ', 10_000],
    ['0s', 0],
    [1500, 1500],
    [0, 0],
  ])('parses %j as %i ms', (value, ms) => {
    expect(parseDuration(value)).toBe(ms);
  });

  it.each<string | number>([
    '',
    'soon',
    '10x',
    '-5s',
    '5 minutes',
    '1e3ms',
    's',
    '10S',
    -1,
    Number.NaN,
    Number.POSITIVE_INFINITY,
  ])('rejects %j', (value) => {
    expect(parseDuration(value)).toBeUndefined();
  });
});

describe('duration (zod)', () => {
  it('yields milliseconds', () => {
    expect(duration.parse('5m')).toBe(300_000);
    expect(duration.parse(42)).toBe(42);
  });

  it('explains a bad value', () => {
    const r = duration.safeParse('fortnight');
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toContain('is not a duration');
  });
});
