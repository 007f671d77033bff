// The detect stage's reorder buffer: whatever the batches, events whose disorder stays within the
// allowed lateness come out in event-time order, each once; without lateness a batch comes out as
// the runtime sorted it before; late ones, a quiet stream and the cap are handled as documented.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createReorderBuffer } from '../../../src/detect/reorder.js';
import type { AccessEvent } from '../../../src/model/index.js';
import { makeEvent } from '../../helpers/factories.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 10, 2, 10, 0, 0);

const ev = (id: string, time: number, actor = 'usr_a') => makeEvent({ event_id: id, time, actor });
const ids = (events: AccessEvent[]) => events.map((e) => e.event_id);
const times = (events: AccessEvent[]) => events.map((e) => e.time);

/** Event times each at most `lateness` before the greatest one so far, cut into batches. */
const disorderedWithin = (lateness: number) =>
  fc
    .array(
      fc.record({
        step: fc.integer({ min: -lateness, max: 5 * MIN }),
        actor: fc.constantFrom('usr_a', 'usr_b', 'usr_c'),
        cut: fc.boolean(),
      }),
      { maxLength: 200 },
    )
    .map((steps) => {
      let max = T0;
      const batches: AccessEvent[][] = [[]];
      steps.forEach(({ step, actor, cut }, i) => {
        const time = Math.max(T0 - lateness, max + step);
        max = Math.max(max, time);
        batches[batches.length - 1]!.push(ev(`e${String(i).padStart(4, '0')}`, time, actor));
        if (cut) batches.push([]);
      });
      return batches;
    });

describe('reorder buffer', () => {
  it('releases input disordered within the allowed lateness in time order, each event once', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 30 * MIN })
          .chain((lateness) => disorderedWithin(lateness).map((batches) => ({ lateness, batches }))),
        ({ lateness, batches }) => {
          const buffer = createReorderBuffer({ allowedLatenessMs: lateness });
          const out: AccessEvent[] = [];
          let late = 0;
          for (const batch of batches) {
            // The wall clock stands still: only the watermark releases.
            late += buffer.add(batch, 0);
            out.push(...buffer.release(0));
          }
          out.push(...buffer.flush());
          expect(late).toBe(0);
          expect(buffer.size).toBe(0);
          const sorted = [...times(out)].sort((a, b) => a - b);
          expect(times(out)).toEqual(sorted);
          expect([...ids(out)].sort()).toEqual(ids(batches.flat()).sort());
        },
      ),
      { numRuns: 300 },
    );
  });

  it('holds nothing without lateness: each batch comes out whole, sorted by time in arrival order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 10 }), { maxLength: 20 }), { maxLength: 10 }),
        (batches) => {
          const buffer = createReorderBuffer({ allowedLatenessMs: 0 });
          let n = 0;
          for (const offsets of batches) {
            const batch = offsets.map((o) => ev(`z${1000 - n++}`, T0 + o * MIN));
            buffer.add(batch, 0);
            // Stable by time: ties keep arrival order (the ids here run against it).
            expect(ids(buffer.release(0))).toEqual(ids([...batch].sort((a, b) => a.time - b.time)));
            expect(buffer.size).toBe(0);
          }
        },
      ),
    );
  });

  it('holds an event until the stream is past it by the allowed lateness', () => {
    const buffer = createReorderBuffer({ allowedLatenessMs: 10 * MIN });
    buffer.add([ev('a', T0 + 62 * MIN)], 0); // 11:02
    expect(buffer.release(0)).toEqual([]);
    buffer.add([ev('b', T0 + 58 * MIN)], 0); // 10:58, within 10 minutes
    expect(buffer.release(0)).toEqual([]);
    buffer.add([ev('c', T0 + 70 * MIN)], 0); // 11:10: the watermark reaches 11:00
    expect(ids(buffer.release(0))).toEqual(['b']);
    buffer.add([ev('d', T0 + 73 * MIN)], 0);
    expect(ids(buffer.release(0))).toEqual(['a']);
    expect(buffer.size).toBe(2);
  });

  it('orders ties in event time by event id, whatever the arrival', () => {
    const buffer = createReorderBuffer({ allowedLatenessMs: MIN });
    buffer.add([ev('y', T0), ev('x', T0)], 0);
    buffer.add([ev('w', T0)], 0);
    expect(ids(buffer.flush())).toEqual(['w', 'x', 'y']);
  });

  it('counts an event older than what went out as too late and releases it at once', () => {
    const buffer = createReorderBuffer({ allowedLatenessMs: 10 * MIN });
    buffer.add([ev('a', T0 + 60 * MIN)], 0);
    expect(buffer.release(0)).toEqual([]);
    // The watermark is 10:50; 10:49 is beyond the allowed lateness, 10:55 is not.
    expect(buffer.add([ev('late', T0 + 49 * MIN), ev('ok', T0 + 55 * MIN)], 0)).toBe(1);
    expect(ids(buffer.release(0))).toEqual(['late']);
    expect(ids(buffer.flush())).toEqual(['ok', 'a']);
  });

  it('counts too-late events without lateness too (older than a batch already out)', () => {
    const buffer = createReorderBuffer({ allowedLatenessMs: 0 });
    buffer.add([ev('a', T0 + 5 * MIN)], 0);
    buffer.release(0);
    expect(buffer.add([ev('b', T0 + 4 * MIN), ev('c', T0 + 5 * MIN)], 0)).toBe(1);
    expect(ids(buffer.release(0))).toEqual(['b', 'c']);
  });

  it('releases what waited the allowed lateness in wall-clock time, and every older event with it', () => {
    const buffer = createReorderBuffer({ allowedLatenessMs: 10 * MIN });
    buffer.add([ev('a', T0 + 62 * MIN)], 1_000);
    buffer.add([ev('b', T0 + 58 * MIN), ev('c', T0 + 65 * MIN)], 1_000 + 5 * MIN);
    expect(buffer.nextDueMs()).toBe(1_000 + 10 * MIN);
    expect(buffer.release(1_000 + 10 * MIN - 1)).toEqual([]);
    // a is due; b, older in event time, goes with it; c (later, added later) waits.
    expect(ids(buffer.release(1_000 + 10 * MIN))).toEqual(['b', 'a']);
    expect(buffer.nextDueMs()).toBe(1_000 + 15 * MIN);
    expect(ids(buffer.release(1_000 + 15 * MIN))).toEqual(['c']);
    expect(buffer.nextDueMs()).toBeUndefined();
    // What went out by the wall clock sets what is too late.
    expect(buffer.add([ev('d', T0 + 64 * MIN)], 1_000 + 16 * MIN)).toBe(1);
  });

  it('keeps wall-clock order through many releases behind one waiting event', () => {
    const buffer = createReorderBuffer({ allowedLatenessMs: 10 * MIN });
    buffer.add([ev('pinned', T0 + 2 * HOUR)], 0);
    buffer.add([ev('pinned2', T0 + 2 * HOUR + 1)], 1);
    // Thousands go out by the watermark (the pinned event set it) while the pinned one waits.
    for (let i = 0; i < 5_000; i++) {
      buffer.add([ev(`n${i}`, T0 + i)], 1);
      expect(ids(buffer.release(1))).toEqual([`n${i}`]);
    }
    buffer.add([ev('later', T0 + 2 * HOUR + 5 * MIN)], 2);
    expect(buffer.nextDueMs()).toBe(10 * MIN);
    expect(ids(buffer.release(10 * MIN))).toEqual(['pinned']);
    expect(buffer.nextDueMs()).toBe(1 + 10 * MIN);
    expect(ids(buffer.release(1 + 10 * MIN))).toEqual(['pinned2']);
    expect(buffer.nextDueMs()).toBe(2 + 10 * MIN);
    expect(ids(buffer.release(2 + 10 * MIN))).toEqual(['later']);
  });

  it('holds at most maxHeld events: past it, the oldest go out', () => {
    const buffer = createReorderBuffer({ allowedLatenessMs: 60 * MIN, maxHeld: 3 });
    buffer.add([ev('e', T0 + 5), ev('a', T0 + 1), ev('c', T0 + 3), ev('b', T0 + 2), ev('d', T0 + 4)], 0);
    expect(ids(buffer.release(0))).toEqual(['a', 'b']);
    expect(buffer.size).toBe(3);
    expect(ids(buffer.flush())).toEqual(['c', 'd', 'e']);
  });

  it('reports the held events of changed identities for checkpoints, then tombstones', () => {
    const buffer = createReorderBuffer({ allowedLatenessMs: 10 * MIN });
    buffer.add([ev('b1', T0 + 2 * MIN, 'usr_b'), ev('a1', T0 + MIN, 'usr_a')], 0);
    buffer.release(0);
    const first = buffer.changedKeys().sort((x, y) => (x.key < y.key ? -1 : 1));
    expect(first.map((h) => [h.key.split('\u0000')[1], ids(h.events)])).toEqual([
      ['usr_a', ['a1']],
      ['usr_b', ['b1']],
    ]);
    expect(buffer.changedKeys()).toEqual([]);
    buffer.add([ev('b2', T0 + 12 * MIN, 'usr_b')], 0); // releases a1 and b1
    expect(ids(buffer.release(0))).toEqual(['a1', 'b1']);
    const second = buffer.changedKeys().sort((x, y) => (x.key < y.key ? -1 : 1));
    expect(second.map((h) => [h.key.split('\u0000')[1], ids(h.events)])).toEqual([
      ['usr_a', []],
      ['usr_b', ['b2']],
    ]);
    // An identity whose events came and went between two checkpoints needs no row.
    buffer.add([ev('c1', T0 + 30 * MIN, 'usr_c')], 0);
    buffer.flush();
    expect(buffer.changedKeys().map((h) => [h.key.split('\u0000')[1], ids(h.events)])).toEqual([
      ['usr_b', []],
    ]);
  });

  it('takes restored events back once, and tombstones their rows when they go out', () => {
    for (const lateness of [10 * MIN, 0]) {
      const buffer = createReorderBuffer({ allowedLatenessMs: lateness });
      const held = [ev('r1', T0 + 62 * MIN), ev('r2', T0 + 61 * MIN)];
      buffer.restore(held, 0);
      expect(buffer.changedKeys()).toEqual([]);
      // Redelivered after the restart, when their batch was not committed: no second copy held.
      expect(buffer.add([held[0]!], 0)).toBe(0);
      expect(buffer.size).toBe(lateness > 0 ? 2 : 3);
      expect(ids(buffer.release(0))).toEqual(lateness > 0 ? [] : ['r2', 'r1', 'r1']);
      buffer.flush();
      expect(buffer.changedKeys().map((h) => h.events)).toEqual([[]]);
    }
  });
});
