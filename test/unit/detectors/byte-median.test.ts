// The counting median/MAD of byte values is simple-statistics' median and medianAbsoluteDeviation,
// to the bit, for any values — and a log ring's band (which uses it) is the band of the same values
// computed through simple-statistics (bandOfValues).
import fc from 'fast-check';
import { median, medianAbsoluteDeviation } from 'simple-statistics';
import { describe, expect, it } from 'vitest';
import { bandOfValues, logBand } from '../../../detectors/shared/index.js';
import { byteMedianAndMad } from '../../../detectors/shared/byte-median.js';
import { LogRing } from '../../../src/detect/state/layout.js';

const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 800 }),
  // Clustered histories, as real rings are: few distinct values, many ties.
  fc
    .array(fc.integer({ min: 0, max: 6 }), { maxLength: 200 })
    .map((xs) => Uint8Array.from(xs, (x) => 120 + x)),
  fc.array(fc.constantFrom(0, 255), { maxLength: 50 }).map((xs) => Uint8Array.from(xs)),
);

describe('byteMedianAndMad', () => {
  it('equals simple-statistics for any byte values', () => {
    fc.assert(
      fc.property(bytes, (values) => {
        const xs = Array.from(values);
        const got = byteMedianAndMad(values);
        expect(got.median).toBe(xs.length ? median(xs) : 0);
        expect(got.mad).toBe(xs.length > 1 ? medianAbsoluteDeviation(xs) : 0);
        // Nothing is left counted for the next call.
        expect(byteMedianAndMad(values)).toEqual(got);
      }),
      { numRuns: 500 },
    );
  });

  it('a ring band equals the band of its values through simple-statistics', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1e12, noNaN: true }), { maxLength: 400 }),
        fc.integer({ min: 1, max: 240 }),
        fc.double({ min: 1, max: 6, noNaN: true }),
        fc.nat(1_000),
        (pushed, hours, sigmas, floor) => {
          const ring = new LogRing(3, hours);
          const buf = new Uint8Array(3 + 5 + hours + 4);
          for (const v of pushed) ring.push(buf, v);
          const day = 20_000;
          expect(logBand(ring, buf, sigmas, floor, day)).toEqual(
            bandOfValues(ring.values(buf), ring.peak(buf), sigmas, floor, day),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
