// The state layout: detectors declare sections, the layer computes offsets. Whatever sections are
// declared, each accessor touches its own bytes only, and an older layout grows by padding.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bitmap,
  byteArray,
  counters,
  countRing,
  logRing,
  recentSet,
  type SectionSpec,
  smallSet,
  stateLayout,
  wordArray,
} from '../../../../src/detect/state/layout.js';

/** Each kind of section with a random size, and random operations on its accessor. */
type Op = (b: Uint8Array) => void;
type Section = { spec: SectionSpec<unknown>; ops: (accessor: never) => fc.Arbitrary<Op[]> };

const u16 = fc.integer({ min: 1, max: 0xffff });
const value = fc.double({ min: 0, max: 2 ** 33, noNaN: true });

const sections: Record<string, fc.Arbitrary<Section>> = {
  logRing: fc.integer({ min: 1, max: 255 }).map((hours) => ({
    spec: logRing(hours),
    ops: (r: ReturnType<ReturnType<typeof logRing>['make']>) =>
      fc.array(
        fc.oneof(
          value.map((v) => (b: Uint8Array) => r.push(b, v)),
          fc.tuple(value, fc.integer({ min: 0, max: 0xffff })).map(
            ([v, d]) =>
              (b: Uint8Array) =>
                r.setPeak(b, v, d),
          ),
        ),
        { maxLength: 300 },
      ),
  })),
  countRing: fc.integer({ min: 1, max: 255 }).map((hours) => ({
    spec: countRing(hours),
    ops: (r: ReturnType<ReturnType<typeof countRing>['make']>) =>
      fc.array(
        fc.integer({ min: -5, max: 1000 }).map((v) => (b: Uint8Array) => r.push(b, v)),
        { maxLength: 300 },
      ),
  })),
  bitmap: fc.integer({ min: 1, max: 64 }).map((bytes) => ({
    spec: bitmap(bytes),
    ops: (m: ReturnType<ReturnType<typeof bitmap>['make']>) =>
      fc.array(
        fc.oneof(
          fc.integer({ min: 0, max: 2 ** 32 - 1 }).map((h) => (b: Uint8Array) => void m.add(b, h)),
          fc.constant((b: Uint8Array) => m.clear(b)),
        ),
        { maxLength: 100 },
      ),
  })),
  recentSet: fc.integer({ min: 1, max: 40 }).map((cap) => ({
    spec: recentSet(cap),
    ops: (s: ReturnType<ReturnType<typeof recentSet>['make']>) =>
      fc.array(
        fc.oneof(
          fc.tuple(u16, fc.integer({ min: -10, max: 100_000 })).map(
            ([h, t]) =>
              (b: Uint8Array) =>
                void s.touch(b, h, t),
          ),
          fc.tuple(u16, u16).map(
            ([f, t]) =>
              (b: Uint8Array) =>
                void s.rename(b, f, t),
          ),
        ),
        { maxLength: 100 },
      ),
  })),
  smallSet: fc.integer({ min: 1, max: 40 }).map((cap) => ({
    spec: smallSet(cap),
    ops: (s: ReturnType<ReturnType<typeof smallSet>['make']>) =>
      fc.array(
        fc.oneof(
          u16.map((h) => (b: Uint8Array) => void s.add(b, h)),
          fc.tuple(u16, u16).map(
            ([f, t]) =>
              (b: Uint8Array) =>
                void s.rename(b, f, t),
          ),
          fc.constant((b: Uint8Array) => s.clear(b)),
        ),
        { maxLength: 100 },
      ),
  })),
  byteArray: fc.integer({ min: 1, max: 64 }).map((n) => ({
    spec: byteArray(n),
    ops: (a: ReturnType<ReturnType<typeof byteArray>['make']>) =>
      fc.array(
        fc.oneof(
          fc.tuple(fc.nat(n - 1), fc.nat(255)).map(
            ([i, v]) =>
              (b: Uint8Array) =>
                a.set(b, i, v),
          ),
          fc.nat(255).map((v) => (b: Uint8Array) => a.fill(b, v)),
        ),
        { maxLength: 50 },
      ),
  })),
  wordArray: fc.integer({ min: 1, max: 64 }).map((n) => ({
    spec: wordArray(n),
    ops: (a: ReturnType<ReturnType<typeof wordArray>['make']>) =>
      fc.array(
        fc.tuple(fc.nat(n - 1), fc.nat(0xffff)).map(
          ([i, v]) =>
            (b: Uint8Array) =>
              a.set(b, i, v),
        ),
        { maxLength: 50 },
      ),
  })),
  counters: fc.integer({ min: 1, max: 16 }).map((n) => ({
    spec: counters(n),
    ops: (a: ReturnType<ReturnType<typeof counters>['make']>) =>
      fc.array(
        fc.tuple(fc.nat(n - 1), fc.double({ min: -1, max: 2 ** 40, noNaN: true })).map(
          ([i, v]) =>
            (b: Uint8Array) =>
              a.set(b, i, v),
        ),
        { maxLength: 50 },
      ),
  })),
};

const anySection = fc.oneof(...Object.values(sections));

describe('stateLayout', () => {
  it('lays sections end to end; operations on one section never change another byte', () => {
    fc.assert(
      fc.property(
        fc.array(anySection, { minLength: 1, maxLength: 8 }).chain((list) => {
          const layout = stateLayout(Object.fromEntries(list.map((s, i) => [`s${i}`, s.spec])));
          const accessors = list.map((_, i) => layout.sections[`s${i}`]);
          return fc.tuple(
            fc.constant({ list, layout }),
            fc.tuple(...list.map((s, i) => s.ops(accessors[i] as never))),
            fc.uint8Array({ minLength: layout.bytes, maxLength: layout.bytes }),
          );
        }),
        ([{ list, layout }, opsBySection, start]) => {
          expect(layout.bytes).toBe(list.reduce((n, s) => n + s.spec.bytes, 0));
          let offset = 0;
          list.forEach((s, i) => {
            expect(layout.bytesBefore(`s${i}`)).toBe(offset);
            const from = offset;
            const to = offset + s.spec.bytes;
            offset = to;
            const buf = start.slice();
            for (const op of opsBySection[i]!) op(buf);
            expect(buf.subarray(0, from)).toEqual(start.subarray(0, from));
            expect(buf.subarray(to)).toEqual(start.subarray(to));
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('allocates zeroed states of its size, tells its own states apart, and grows an older one', () => {
    const layout = stateLayout({ seen: smallSet(4), hours: countRing(6), later: bitmap(8) });
    expect(layout.bytes).toBe(8 + 11 + 8);
    const buf = layout.alloc();
    expect(buf).toEqual(new Uint8Array(27));
    expect(layout.alloc()).not.toBe(buf);
    expect(layout.fits(buf)).toBe(true);
    expect(layout.fits(new Uint8Array(26))).toBe(false);
    expect(layout.fits({ byteLength: 27 })).toBe(false);
    expect(layout.grow(buf)).toBe(buf);

    const old = new Uint8Array(layout.bytesBefore('later')).fill(7);
    const grown = layout.grow(old, 'later')!;
    expect(grown.byteLength).toBe(27);
    expect(grown.subarray(0, 19)).toEqual(old);
    expect(grown.subarray(19)).toEqual(new Uint8Array(8));
    expect(layout.grow(new Uint8Array(18), 'later')).toBeUndefined();
    expect(layout.grow(new Uint8Array(19))).toBeUndefined();
    expect(layout.grow('not a buffer', 'later')).toBeUndefined();
    expect(() => layout.bytesBefore('nope' as 'later')).toThrow(/no section nope/);
  });

  it('refuses section sizes it cannot hold', () => {
    expect(() => logRing(0)).toThrow(/ring hours must be 1–255, got 0/);
    expect(() => countRing(256)).toThrow(/ring hours must be 1–255, got 256/);
    expect(() => logRing(1.5)).toThrow(/ring hours/);
    expect(() => byteArray(-1)).toThrow(/bad section size -1/);
  });
});

describe('section accessors', () => {
  it('a ring keeps the last `hours` values, oldest overwritten first, and its peak', () => {
    const { ring, counts } = stateLayout({ ring: logRing(3), counts: countRing(3) }).sections;
    const b = new Uint8Array(16);
    for (const v of [1, 2, 3, 4]) {
      ring.push(b, v);
      counts.push(b, v);
    }
    expect(ring.samples(b)).toBe(3);
    expect(counts.values(b)).toEqual([4, 2, 3]);
    expect(counts.max(b)).toBe(4);
    expect(ring.values(b).map((q) => Math.round(2 ** (q / 8) - 1))).toEqual([4, 2, 3]);
    counts.push(b, 1000);
    expect(counts.values(b)).toEqual([4, 255, 3]);
    expect(ring.peak(b)).toEqual({ level: 0, day: 0 });
    ring.setPeak(b, 100, 20_000);
    expect(ring.peak(b)).toEqual({ level: Math.round(8 * Math.log2(101)), day: 20_000 });
  });

  it('a recent set forgets the least recently seen; a small set stops when full', () => {
    const { recent, exact } = stateLayout({ recent: recentSet(2), exact: smallSet(2) }).sections;
    const b = new Uint8Array(12);
    expect(recent.touch(b, 11, 1)).toBe(true);
    expect(recent.touch(b, 22, 2)).toBe(true);
    expect(recent.touch(b, 11, 3)).toBe(false);
    expect(recent.touch(b, 33, 4)).toBe(true);
    expect(recent.keys(b).sort()).toEqual([11, 33]);
    expect(recent.entries(b).sort()).toEqual([
      [11, 3],
      [33, 4],
    ]);
    expect(recent.rename(b, 11, 44)).toBe(true);
    expect(recent.has(b, 44)).toBe(true);
    expect(recent.size(b)).toBe(2);
    expect(exact.add(b, 5)).toBe('new');
    expect(exact.add(b, 5)).toBe('known');
    expect(exact.add(b, 6)).toBe('new');
    expect(exact.add(b, 7)).toBe('full');
    expect(exact.rename(b, 6, 7)).toBe(true);
    expect(exact.add(b, 7)).toBe('known');
  });

  it('a bitmap counts a few distinct values exactly enough; counters saturate', () => {
    const { bits, n } = stateLayout({ bits: bitmap(32), n: counters(1) }).sections;
    const b = new Uint8Array(36);
    for (let i = 1; i <= 10; i++) bits.add(b, i * 7919);
    expect(Math.round(bits.estimate(b))).toBe(10);
    expect(bits.add(b, 7919)).toBe(false);
    n.set(b, 0, 2 ** 40);
    expect(n.get(b, 0)).toBe(0xffffffff);
    n.set(b, 0, 123_456);
    expect(n.get(b, 0)).toBe(123_456);
  });
});
