// The runtime packs the states of entities idle for a checkpoint interval (src/detect/state/cold.ts)
// and unpacks them on their next event: detection must not be able to tell.
import fc from 'fast-check';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDetectors } from '../../../../detectors/index.js';
import { loadPipeline, packageRoot } from '../../../../src/config/index.js';
import { createShapes, packStates, unpackStates } from '../../../../src/detect/state/cold.js';
import { createDetectorRuntime } from '../../../../src/detect/runtime.js';
import { type AccessEvent, type Finding, PREVIOUS_TOKEN_ATTRIBUTES } from '../../../../src/model/index.js';
import { makeEvent } from '../../../helpers/factories.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Monday 2 November 2026, 00:00 UTC. */
const MONDAY = Date.UTC(2026, 10, 2);

describe('cold detector state', () => {
  it('packs and unpacks any state value exactly (numbers, strings, typed arrays, nesting, holes)', () => {
    const value = fc.letrec((tie) => ({
      leaf: fc.oneof(
        fc.constant(undefined),
        fc.constant(null),
        fc.boolean(),
        fc.integer(),
        fc.maxSafeInteger(),
        fc.double(),
        fc.string({ unit: 'binary' }),
        fc.uint8Array({ maxLength: 80 }).map((a) => {
          a.fill(0, 0, Math.floor(a.length / 2)); // runs of zeros
          return a;
        }),
        fc.float32Array({ maxLength: 8 }),
        fc.uint16Array({ maxLength: 8 }),
      ),
      node: fc.oneof(
        { depthSize: 'small' },
        tie('leaf'),
        fc.array(tie('node'), { maxLength: 4 }),
        fc.dictionary(fc.string({ maxLength: 6 }), tie('node'), { maxKeys: 5 }),
        fc.array(fc.tuple(fc.string(), tie('node')), { maxLength: 3 }).map((es) => new Map(es)),
      ),
    })).node;
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant(undefined), value), { maxLength: 5 }), (states) => {
        const shapes = createShapes();
        const back = unpackStates(shapes, packStates(shapes, states), states.length);
        expect(back).toEqual(states);
        back.forEach((b, i) => {
          if (Object.is(states[i], -0)) expect(Object.is(b, -0)).toBe(true);
        });
      }),
    );
  });

  it('fills a fresh state in place, so the object keeps its shape', () => {
    const shapes = createShapes();
    const state = {
      hour: 490_000,
      at: 1.5e12,
      buf: new Uint8Array([0, 0, 7, 0]),
      note: undefined as string | undefined,
    };
    const fresh = { hour: 0, at: 0, buf: new Uint8Array(4), note: undefined as string | undefined };
    const [back] = unpackStates(shapes, packStates(shapes, [state]), 1, () => fresh);
    expect(back).toBe(fresh);
    expect(fresh).toEqual(state);
  });

  /** Three people over 16 days (weekdays 09–17), then an attack hour; one actor's token rotates. */
  function workload(): AccessEvent[][] {
    const hours: AccessEvent[][] = [];
    const people = [
      'usr_k1_coldAAAAAAAAAAAAAAAAAA',
      'usr_k1_coldBBBBBBBBBBBBBBBBBB',
      'usr_k1_coldCCCCCCCCCCCCCCCCCC',
    ];
    const rotated = 'usr_k1_coldCCCCCCCCCCCCrotated';
    for (let d = 0; d < 16; d++) {
      const weekday = new Date(MONDAY + d * DAY).getUTCDay();
      for (let h = 0; h < 24; h++) {
        const batch: AccessEvent[] = [];
        if (weekday !== 0 && weekday !== 6 && h >= 9 && h < 17)
          people.forEach((actor, p) => {
            for (let k = 0; k < 6 + 2 * p; k++) {
              const late = d >= 10 && p === 2;
              batch.push(
                makeEvent({
                  actor: late ? rotated : actor,
                  credential: `key_k1_cold${p}`,
                  src_net: k % 3 ? 'net_k1_office' : 'net_k1_vpn',
                  time: MONDAY + d * DAY + h * HOUR + k * 7 * 60_000 + p * 1_000,
                  collection: `docs-${(h + k + p) % 5}`,
                  outcome: k === 5 && h === 12 ? 'denied' : 'allowed',
                  attributes:
                    late && d === 10 && h === 9 && k === 0
                      ? { [PREVIOUS_TOKEN_ATTRIBUTES.actor]: actor }
                      : {},
                }),
              );
            }
          });
        if (d === 15 && h === 2)
          for (let i = 0; i < 400; i++)
            batch.push(
              makeEvent({
                actor: people[0],
                credential: 'key_k1_cold0',
                src_net: 'net_k1_elsewhere',
                time: MONDAY + d * DAY + h * HOUR + i * 5_000,
                operation: i % 50 === 0 ? 'delete' : 'scroll',
                returned: 500,
                vectors_returned: 500,
                bytes_out: 3_000_000,
                collection: `secret-${i % 14}`,
                outcome: i % 7 === 0 ? 'denied' : 'allowed',
              }),
            );
        hours.push(batch.sort((a, b) => a.time - b.time));
      }
    }
    return hours;
  }

  it('gives the same findings, in the same order, as a runtime that never packs (all detectors)', () => {
    const pipeline = loadPipeline(path.join(packageRoot(), 'pipelines/default.yaml'));
    const packing = createDetectorRuntime(createDetectors(pipeline));
    const live = createDetectorRuntime(createDetectors(pipeline), { packIdle: false });
    const a: Finding[] = [];
    const b: Finding[] = [];
    let packed = 0;
    for (const batch of workload()) {
      const now = batch.at(-1)?.time ?? MONDAY;
      a.push(...packing.process(batch, now));
      b.push(...live.process(batch, now));
      // A checkpoint after each hour: entities idle through the hour are packed.
      const saved = packing.takeDirty();
      expect(saved).toEqual(live.takeDirty());
      const all = Object.values(packing.entities()).reduce((x, y) => x + y, 0);
      packed = Math.max(packed, all - saved.length);
    }
    expect(packing.entities()).toEqual(live.entities());
    expect(packed).toBeGreaterThan(0);
    expect(new Set(a.map((f) => f.detector)).size).toBeGreaterThanOrEqual(4);
    expect(a).toEqual(b);
  });

  it('with a cap on hot entities, packs the least recently active and still detects the same', () => {
    const pipeline = loadPipeline(path.join(packageRoot(), 'pipelines/default.yaml'));
    const capped = createDetectorRuntime(createDetectors(pipeline), { maxHotEntities: 1 });
    const live = createDetectorRuntime(createDetectors(pipeline), { packIdle: false });
    const a: Finding[] = [];
    const b: Finding[] = [];
    let packs = 0;
    for (const batch of workload()) {
      // One event per call: every other entity is packed after each call.
      for (const e of batch) {
        a.push(...capped.process([e], e.time));
        b.push(...live.process([e], e.time));
        // One per family: tenant + actor (7 detectors), auth-failures' actor, credential, network.
        expect(capped.hotEntities()).toBeLessThanOrEqual(4);
        if (capped.hotEntities() < live.hotEntities()) packs++;
      }
      // Checkpoints read packed states without unpacking them into live ones.
      const before = capped.hotEntities();
      expect(capped.takeDirty()).toEqual(live.takeDirty());
      expect(capped.hotEntities()).toBeLessThanOrEqual(before);
    }
    expect(packs).toBeGreaterThan(100);
    expect(capped.entities()).toEqual(live.entities());
    expect(new Set(a.map((f) => f.detector)).size).toBeGreaterThanOrEqual(4);
    expect(a).toEqual(b);
  });

  it('asks for the history of an identity while any bootstrapping detector lacks its state, packed or not', () => {
    const pipeline = loadPipeline(path.join(packageRoot(), 'pipelines/default.yaml'));
    const runtime = createDetectorRuntime(createDetectors(pipeline));
    const first = makeEvent({ actor: 'usr_k1_bootAAAAAAAAAAAAAAAAAA', time: MONDAY + 9 * HOUR + 5 });
    const wanted = [{ tenant: first.tenant, actor: first.actor, before: MONDAY + 9 * HOUR }];
    expect(runtime.unknownIdentities([first])).toEqual(wanted);
    // Every checkpoint but one detector's (e.g. written by an older version without it).
    const other = createDetectorRuntime(createDetectors(pipeline));
    other.process([first], first.time);
    const saved = other.takeDirty();
    const allButOne = saved.filter((e) => e.detector !== 'new-collection');
    expect(allButOne).toHaveLength(saved.length - 1);
    runtime.restore(allButOne);
    expect(runtime.unknownIdentities([first])).toEqual(wanted);
    runtime.takeDirty();
    runtime.takeDirty(); // packed now
    expect(runtime.hotEntities()).toBe(0);
    expect(runtime.unknownIdentities([first])).toEqual(wanted);
    runtime.bootstrap(first, { windowMs: 600_000, rows: [], hourly: [] }, MONDAY + 9 * HOUR);
    expect(runtime.unknownIdentities([first])).toEqual([]);
    runtime.takeDirty();
    runtime.takeDirty();
    expect(runtime.hotEntities()).toBe(0);
    expect(runtime.unknownIdentities([first])).toEqual([]);
  });

  it('does not look a known identity up again for a credential it has not used before', () => {
    const pipeline = loadPipeline(path.join(packageRoot(), 'pipelines/default.yaml'));
    const runtime = createDetectorRuntime(createDetectors(pipeline));
    const first = makeEvent({
      actor: 'usr_k1_keysAAAAAAAAAAAAAAAAAA',
      credential: 'key_k1_keysOLDAAAAAAAAAAAAAAA',
      time: MONDAY + 9 * HOUR,
    });
    runtime.process([first], first.time);
    const newKey = { ...first, credential: 'key_k1_keysNEWBBBBBBBBBBBBBBB', time: first.time + 60_000 };
    expect(runtime.unknownKeys([newKey]).some((k) => k.includes(newKey.credential))).toBe(true);
    expect(runtime.unknownIdentities([newKey])).toEqual([]);
    // A new identity is looked up, whatever its credential.
    const stranger = { ...newKey, actor: 'usr_k1_keysCCCCCCCCCCCCCCCCCC' };
    expect(runtime.unknownIdentities([stranger])).toEqual([
      { tenant: stranger.tenant, actor: stranger.actor, before: MONDAY + 9 * HOUR },
    ]);
  });
});
