// The writer's pure helpers: insert retry delays and which ClickHouse errors are the data's fault.
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { chTime } from '../../src/store/client.js';
import { backoffMs, isDataError } from '../../src/store/writer.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('backoffMs', () => {
  it('doubles per attempt from the base, jittered between half and the full ceiling', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    expect([1, 2, 3, 4].map((a) => backoffMs(a))).toEqual([100, 200, 400, 800]);
    vi.spyOn(Math, 'random').mockReturnValue(0.999_999);
    expect([1, 2, 3, 4].map((a) => backoffMs(a))).toEqual([200, 400, 800, 1600]);
  });

  it('is capped', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.999_999);
    expect(backoffMs(30)).toBe(10_000);
    expect(backoffMs(1_000_000)).toBe(10_000);
    expect(backoffMs(5, 100, 1_000)).toBe(1_000);
  });

  it('stays within [ceiling / 2, ceiling] and never exceeds the cap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 1, max: 5_000 }),
        fc.integer({ min: 1, max: 120_000 }),
        (attempt, base, cap) => {
          const ceiling = Math.min(cap, base * 2 ** Math.min(attempt, 20));
          const d = backoffMs(attempt, base, cap);
          expect(d).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
          expect(d).toBeLessThanOrEqual(cap);
        },
      ),
    );
  });
});

describe('isDataError', () => {
  it.each([
    ['27', 'CANNOT_PARSE_INPUT_ASSERTION_FAILED'],
    ['6', 'CANNOT_PARSE_TEXT'],
    ['53', 'TYPE_MISMATCH'],
    ['117', 'INCORRECT_DATA'],
    ['241', 'MEMORY_LIMIT_EXCEEDED (a batch too big: split it)'],
  ])('treats ClickHouse code %s (%s) as a data error', (code) => {
    expect(isDataError(Object.assign(new Error('bad row'), { code }))).toBe(true);
  });

  it('accepts a numeric code too', () => {
    expect(isDataError({ code: 27 })).toBe(true);
  });

  it.each([
    ['159', 'TIMEOUT_EXCEEDED'],
    ['210', 'NETWORK_ERROR'],
    ['ECONNREFUSED', 'connection refused'],
    ['81', 'UNKNOWN_DATABASE'],
  ])('treats code %s (%s) as an infrastructure error', (code) => {
    expect(isDataError(Object.assign(new Error('down'), { code }))).toBe(false);
  });

  it.each([null, undefined, 'a string', 42, new Error('no code'), {}])('is false for %j', (err) => {
    expect(isDataError(err)).toBe(false);
  });
});

describe('chTime', () => {
  const reference = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
  const outcome = (f: () => string) => {
    try {
      return f();
    } catch (err) {
      return (err as Error).name;
    }
  };

  it('is the ISO text of the instant, as the engine reads DateTime64(3)', () => {
    expect(chTime(Date.UTC(2026, 10, 2, 10, 0, 5, 7))).toBe('2026-11-02 10:00:05.007');
    expect(chTime(0)).toBe('1970-01-01 00:00:00.000');
  });

  it('throws past the end of the Date range even when the second before it is cached', () => {
    expect(chTime(8.64e15)).toBe(reference(8.64e15));
    expect(() => chTime(8.64e15 + 1)).toThrow(RangeError);
    expect(chTime(-8.64e15)).toBe(reference(-8.64e15));
    expect(() => chTime(-8.64e15 - 1)).toThrow(RangeError);
  });

  it('equals the ISO text (or throws the same) for any instant, one after another (cached date)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.integer({ min: -62_135_596_800_000, max: 253_402_300_799_999 }),
            fc.integer({ min: -8.64e15 - 2_000, max: 8.64e15 + 2_000 }),
            fc.double(),
          ),
          {
            minLength: 1,
          },
        ),
        fc.integer({ min: 0, max: 999 }),
        (instants, step) => {
          for (const ms of instants) {
            if (!Number.isFinite(ms)) continue;
            for (const t of [ms, ms + step, ms - step])
              expect(outcome(() => chTime(t))).toBe(outcome(() => reference(t)));
          }
        },
      ),
    );
  });
});
