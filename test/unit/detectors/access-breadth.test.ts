// access-breadth: distinct collections per hour against the identity's own active hours, driven
// through the detector runtime over simulated days of event time.
import { describe, expect, it } from 'vitest';
import {
  type AccessBreadthState,
  createAccessBreadthDetector,
  estimateStateBytes,
} from '../../../detectors/access-breadth/access-breadth.detector.js';
import { accessBreadthParamsSchema } from '../../../detectors/access-breadth/access-breadth.params.js';
import { createDetectorRuntime } from '../../../src/detect/runtime.js';
import { type AccessEvent, deterministicId, findingSchema } from '../../../src/model/index.js';
import { prng as rng } from '../../../src/cli/demo/workload.js';
import { latestById, makeEvent } from '../../helpers/factories.js';
import { bootstrapFrom } from '../../helpers/rollup.js';

/** A ring's bytes: a 5-byte header and one byte an hour (the memory figures depend on it). */
const ringBytes = (hours: number) => hours + 5;

const PARAMS = accessBreadthParamsSchema.parse({});
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Monday 2 November 2026, 00:00 UTC. */
const MONDAY = Date.UTC(2026, 10, 2);
const PERSON = 'usr_k1_personAAAAAAAAAAAAAAA';
const TENANT = 't-test';

/** Weekdays 09–17: each hour 6–14 searches over 1–6 of the identity's twelve collections. */
function officeDays(start: number, days: number, seed: number, skip?: { day: number; hour: number }) {
  const rand = rng(seed);
  const out: AccessEvent[] = [];
  for (let d = 0; d < days; d++) {
    const day = start + d * DAY;
    const weekday = new Date(day).getUTCDay();
    if (weekday === 0 || weekday === 6) continue;
    for (let h = 9; h < 17; h++) {
      if (skip && skip.day === d && skip.hour === h) continue;
      const width = 1 + Math.floor(rand() * 6);
      const first = Math.floor(rand() * 12);
      const n = 6 + Math.floor(rand() * 9);
      for (let i = 0; i < n; i++)
        out.push(
          makeEvent({
            actor: PERSON,
            time: day + h * HOUR + Math.floor((i * 60 * MINUTE) / n),
            collection: `team-docs-${(first + (i % width)) % 12}`,
          }),
        );
    }
  }
  return out;
}

/** One search on each of `count` collections within the 20 minutes from `start`. */
function enumeration(start: number, count: number): AccessEvent[] {
  return Array.from({ length: count }, (_, i) =>
    makeEvent({ actor: PERSON, time: start + Math.floor((i * 20 * MINUTE) / count), collection: `c-${i}` }),
  );
}

const newRuntime = () => createDetectorRuntime([createAccessBreadthDetector(PARAMS)]);

describe('access-breadth: normal behaviour', () => {
  it('raises nothing for three weeks of noisy office hours, warm-up included', () => {
    expect(newRuntime().process(officeDays(MONDAY, 21, 1), MONDAY + 21 * DAY)).toEqual([]);
  });

  it('raises nothing when a quiet identity touches eight collections in one hour (under the floor)', () => {
    const events = [
      ...officeDays(MONDAY, 7, 2, { day: 7, hour: 10 }),
      ...enumeration(MONDAY + 7 * DAY + 10 * HOUR, 8),
    ];
    expect(newRuntime().process(events, MONDAY + 8 * DAY)).toEqual([]);
  });

  it('raises nothing during warm-up, even for enumeration', () => {
    const events = [...officeDays(MONDAY, 1, 3), ...enumeration(MONDAY + 15 * HOUR + 30 * MINUTE, 200)];
    expect(newRuntime().process(events, MONDAY + DAY)).toEqual([]);
  });
});

describe('access-breadth: enumeration after a week of normal behaviour', () => {
  const attackHour = MONDAY + 7 * DAY + 10 * HOUR;
  const attack = enumeration(attackHour, 150);
  const attackIds = new Set(attack.map((e) => e.event_id));
  const events = [
    ...officeDays(MONDAY, 8, 4, { day: 7, hour: 10 }),
    ...attack,
    makeEvent({ actor: PERSON, time: attackHour + HOUR + 5 * MINUTE, collection: 'team-docs-1' }),
  ];
  const now = MONDAY + 9 * DAY;
  const findings = newRuntime().process(events, now);
  const final = latestById(findings);

  it('raises one finding for the hour, ending on the hour-close numbers', () => {
    expect(final).toHaveLength(1);
    const f = findings.at(-1)!;
    expect(f.observed).toBeGreaterThan(130);
    expect(f.observed).toBeLessThan(170);
    expect(f.finding_id).toBe(deterministicId('access-breadth', TENANT, PERSON, attackHour));
  });

  it('explains it: observed above a band around the usual few collections, with the baseline period', () => {
    for (const f of findings) {
      expect(findingSchema.safeParse(f).success).toBe(true);
      expect(f.observed).toBeGreaterThan(f.band_high);
      expect(f.expected).toBeGreaterThan(1);
      expect(f.expected).toBeLessThan(6);
      expect(f.band_high).toBeGreaterThanOrEqual(PARAMS.min_collections);
      expect(f.band_high).toBeLessThan(60);
      expect(f.baseline_period).toMatch(/active hours of history/);
      expect(f.attack_techniques).toContain('T1619');
      expect(f.entity_type).toBe('actor');
      expect(f.severity).toBe(
        f.score >= 0.9 ? 'critical' : f.score >= 0.75 ? 'high' : f.score >= 0.6 ? 'medium' : 'low',
      );
    }
    expect(findings.at(-1)!.score).toBeGreaterThan(0.75);
  });

  it('says it in one sentence with the actor token, observed and usual', () => {
    const s = findings.at(-1)!.sentence;
    expect(s).toContain(PERSON);
    expect(s).toMatch(
      /touched \d+ distinct collections in the hour from 2026-11-09T10:00Z; its usual is [\d.]+ per active hour/,
    );
  });

  it('cites evidence from the enumeration only', () => {
    for (const f of findings) {
      expect(f.evidence.length).toBeGreaterThan(0);
      for (const id of f.evidence) expect(attackIds.has(id)).toBe(true);
    }
  });

  it('gives the same findings (ids included) on a fresh runtime', () => {
    expect(newRuntime().process(events, now)).toEqual(findings);
  });
});

describe('access-breadth: compact state', () => {
  it('stays the same size after 10,000 events over 1,000 collections', () => {
    const rt = newRuntime();
    const key = `${TENANT}\u0000${PERSON}`;
    rt.process(officeDays(MONDAY, 1, 5), MONDAY);
    const before = estimateStateBytes(rt.stateOf('access-breadth', key) as AccessBreadthState);
    const start = MONDAY + DAY;
    const events = Array.from({ length: 10_000 }, (_, i) =>
      makeEvent({ actor: PERSON, time: start + i * 30_000, collection: `c-${i % 1000}` }),
    );
    rt.process(events, start);
    const state = rt.stateOf('access-breadth', key) as AccessBreadthState;
    expect(state.buf.byteLength).toBe(32 + ringBytes(PARAMS.history_hours));
    expect(estimateStateBytes(state)).toBeLessThanOrEqual(before + 700);
    expect(estimateStateBytes(state)).toBeLessThan(1_000);
  });
});

describe('access-breadth: bootstrap from the rollup (restart without checkpoints)', () => {
  const key = `${TENANT}\u0000${PERSON}`;
  const history = officeDays(MONDAY, 14, 11);
  const before = MONDAY + 14 * DAY + 10 * HOUR;
  const live = [
    ...enumeration(before + 5 * MINUTE, 40),
    makeEvent({ actor: PERSON, time: before + HOUR + 5 * MINUTE, collection: 'team-docs-1' }),
  ];

  function runtimes() {
    const learned = newRuntime();
    learned.process(history, before);
    const booted = bootstrapFrom(newRuntime(), history, { tenant: TENANT, actors: [PERSON], before });
    return { learned, booted };
  }

  it('fills the ring of distinct collections per active hour as live traffic did, and fires the same', () => {
    const { learned, booted } = runtimes();
    const expected = learned.process(live, before + 2 * HOUR);
    const got = booted.process(live, before + 2 * HOUR);
    expect(latestById(got)).toHaveLength(1);
    expect(got).toEqual(expected);
    const ring = (rt: typeof learned) => [
      ...(rt.stateOf('access-breadth', key) as AccessBreadthState).buf.slice(32),
    ];
    expect(ring(booted)).toEqual(ring(learned));
  });

  it('raises nothing for the next office days (no warm-up, no flood)', () => {
    const { booted } = runtimes();
    const next = officeDays(MONDAY, 21, 11).filter((e) => e.time >= before);
    expect(booted.process(next, MONDAY + 21 * DAY)).toEqual([]);
  });
});
