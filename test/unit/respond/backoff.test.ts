// Responder retry delays: exponential with jitter, bounded by the cap.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { actionBackoffMs } from '../../../src/respond/backoff.js';

const low = () => 0;
const high = () => 0.999_999;

describe('actionBackoffMs', () => {
  it('doubles per attempt from the base (upper end of the jitter)', () => {
    expect([1, 2, 3, 4].map((a) => actionBackoffMs(a, 500, 60_000, high))).toEqual([500, 1000, 2000, 4000]);
  });

  it('jitters down to half the ceiling at most', () => {
    expect([1, 2, 3].map((a) => actionBackoffMs(a, 500, 60_000, low))).toEqual([250, 500, 1000]);
  });

  it('stops growing at the cap', () => {
    expect(actionBackoffMs(30, 500, 60_000, high)).toBe(60_000);
    expect(actionBackoffMs(10_000, 500, 60_000, high)).toBe(60_000);
  });

  it('treats attempt 0 and below like the first attempt', () => {
    expect(actionBackoffMs(0, 500, 60_000, high)).toBe(500);
    expect(actionBackoffMs(-3, 500, 60_000, high)).toBe(500);
  });

  it('is bounded and never shrinks as attempts grow (same jitter draw)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 600_000 }),
        fc.double({ min: 0, max: 0.999_999, noNaN: true }),
        (attempt, base, cap, r) => {
          const random = () => r;
          const d = actionBackoffMs(attempt, base, cap, random);
          const ceiling = Math.min(cap, base * 2 ** (attempt - 1));
          expect(d).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
          expect(d).toBeLessThanOrEqual(ceiling);
          expect(actionBackoffMs(attempt + 1, base, cap, random)).toBeGreaterThanOrEqual(d);
        },
      ),
    );
  });

  it('uses Math.random by default and stays within the default cap', () => {
    for (let a = 1; a < 40; a++) {
      const d = actionBackoffMs(a);
      expect(d).toBeGreaterThanOrEqual(250);
      expect(d).toBeLessThanOrEqual(60_000);
    }
  });
});
