// Shared normalizer pieces: event time parsing (ISO or epoch of any precision, plausibility window)
// and the outcome a status code implies.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { blankEvent, outcomeFromStatus, parseEventTime } from '../../../src/collectors/normalize.js';
import { accessEventSchema } from '../../../src/model/index.js';

const NOW = Date.UTC(2026, 10, 2, 12, 0, 0);
const T = Date.UTC(2026, 10, 2, 10, 0, 0);
const MIN = Date.UTC(2000, 0, 1);
const DAY = 24 * 3_600_000;

describe('parseEventTime', () => {
  it.each<[string, string | number | bigint]>([
    ['ISO-8601 UTC', '2026-11-02T10:00:00Z'],
    ['ISO-8601 with offset', '2026-11-02T05:00:00-05:00'],
    ['epoch seconds', T / 1000],
    ['epoch seconds as text', String(T / 1000)],
    ['epoch milliseconds', T],
    ['epoch milliseconds as text', String(T)],
    ['epoch microseconds', T * 1000],
    ['epoch nanoseconds (bigint)', BigInt(T) * 1_000_000n],
    ['epoch nanoseconds as text', `${T}000000`],
  ])('reads %s', (_what, value) => {
    expect(parseEventTime(value, NOW)).toBe(T);
  });

  it('keeps the fraction of fractional seconds, truncated to the millisecond', () => {
    expect(parseEventTime(T / 1000 + 0.25, NOW)).toBe(T + 250);
    expect(parseEventTime(`${T / 1000}.5`, NOW)).toBe(T + 500);
    expect(parseEventTime(T + 0.9, NOW)).toBe(T);
  });

  it('accepts the edges of the plausibility window and rejects one millisecond beyond', () => {
    expect(parseEventTime(MIN, NOW)).toBe(MIN);
    expect(parseEventTime(MIN - 1, NOW)).toBeUndefined();
    expect(parseEventTime(NOW + DAY, NOW)).toBe(NOW + DAY);
    expect(parseEventTime(NOW + DAY + 1, NOW)).toBeUndefined();
  });

  it.each<[string, string | number]>([
    ['a word', 'yesterday'],
    ['an empty string', ''],
    ['a far-future ISO time', '2099-01-01T00:00:00Z'],
    ['a pre-2000 ISO time', '1999-12-31T23:59:59.999Z'],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a negative number', -1],
    ['zero', 0],
    ['a signed numeric string', '-1793613600'],
  ])('rejects %s', (_what, value) => {
    expect(parseEventTime(value, NOW)).toBeUndefined();
  });

  it('round-trips every plausible millisecond through ISO, ms, µs and ns (bigint)', () => {
    fc.assert(
      fc.property(fc.integer({ min: MIN, max: NOW + DAY }), (ms) => {
        expect(parseEventTime(new Date(ms).toISOString(), NOW)).toBe(ms);
        expect(parseEventTime(ms, NOW)).toBe(ms);
        expect(parseEventTime(ms * 1000, NOW)).toBe(ms);
        expect(parseEventTime(BigInt(ms) * 1_000_000n, NOW)).toBe(ms);
      }),
    );
  });

  it('round-trips every plausible whole second given as epoch seconds', () => {
    fc.assert(
      fc.property(fc.integer({ min: MIN / 1000, max: (NOW + DAY) / 1000 }), (s) => {
        expect(parseEventTime(s, NOW)).toBe(s * 1000);
      }),
    );
  });

  it('never returns a time outside the window, whatever the input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.double(), fc.string(), fc.bigInt()), (v) => {
        const t = parseEventTime(v, NOW);
        if (t !== undefined) {
          expect(Number.isInteger(t)).toBe(true);
          expect(t).toBeGreaterThanOrEqual(MIN);
          expect(t).toBeLessThanOrEqual(NOW + DAY);
        }
      }),
    );
  });
});

describe('outcomeFromStatus', () => {
  it.each<[number | undefined, string]>([
    [undefined, 'allowed'],
    [0, 'allowed'],
    [200, 'allowed'],
    [204, 'allowed'],
    [304, 'allowed'],
    [401, 'denied'],
    [403, 'denied'],
    [400, 'error'],
    [404, 'error'],
    [429, 'error'],
    [500, 'error'],
    [503, 'error'],
  ])('maps %s to %s', (status, outcome) => {
    expect(outcomeFromStatus(status)).toBe(outcome);
  });
});

describe('blankEvent', () => {
  it('is a valid skeleton once the required identity fields are filled', () => {
    const e = blankEvent(NOW);
    expect(e.time).toBe(NOW);
    expect(e.observed_time).toBe(NOW);
    expect(e.operation).toBe('other');
    const filled = { ...e, event_id: 'x', tenant: 't', actor: 'usr_k1_x', system: 'qdrant' };
    expect(accessEventSchema.safeParse(filled).success).toBe(true);
  });

  it('gives every call its own attributes object', () => {
    const a = blankEvent(NOW);
    a.attributes.k = 'v';
    expect(blankEvent(NOW).attributes).toEqual({});
  });
});
