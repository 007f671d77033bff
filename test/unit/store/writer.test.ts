// The writer's pure helpers: which ClickHouse errors are the data's fault, and ClickHouse times.
// (Its insert retry delays are pinned in test/unit/model/retry-backoff.test.ts.)
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chTime } from '../../../src/store/client.js';
import { isDataError } from '../../../src/store/writer.js';

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
