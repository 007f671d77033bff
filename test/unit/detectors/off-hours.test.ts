// off-hours: activity in hours where the identity's own weekly profile is empty, driven through the
// detector runtime over simulated days.
import { describe, expect, it } from 'vitest';
import {
  ACTIVE,
  createOffHoursDetector,
  distanceToProfile,
  estimateStateBytes,
  type OffHoursState,
} from '../../../detectors/off-hours/off-hours.detector.js';
import { offHoursParamsSchema } from '../../../detectors/off-hours/off-hours.params.js';
import { createDetectorRuntime } from '../../../src/detect/runtime.js';
import { type AccessEvent, deterministicId, findingSchema } from '../../../src/model/index.js';
import { prng as rng } from '../../../src/cli/demo/workload.js';
import { makeEvent } from '../../helpers/factories.js';
import { bootstrapFrom } from '../../helpers/rollup.js';

const PARAMS = offHoursParamsSchema.parse({});
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Monday 2 November 2026, 00:00 UTC. */
const MONDAY = Date.UTC(2026, 10, 2);
const TENANT = 't-test';
const PERSON = 'usr_k1_personAAAAAAAAAAAAAAA';

/**
 * Weekdays 09–17 (a few requests an hour), starting at 08:00 one day in five and working until
 * 18:00 or 19:00 one day in four; weekends off.
 */
function officeWeeks(start: number, days: number, seed: number): AccessEvent[] {
  const rand = rng(seed);
  const out: AccessEvent[] = [];
  for (let d = 0; d < days; d++) {
    const day = start + d * DAY;
    const weekday = new Date(day).getUTCDay();
    if (weekday === 0 || weekday === 6) continue;
    const from = rand() < 0.2 ? 8 : 9;
    const until = rand() < 0.25 ? 18 + Math.floor(rand() * 2) : 17;
    for (let h = from; h < until; h++) {
      const n = 3 + Math.floor(rand() * 8);
      for (let i = 0; i < n; i++)
        out.push(makeEvent({ actor: PERSON, time: day + h * HOUR + Math.floor((i * HOUR) / n) }));
    }
  }
  return out;
}

/** `count` requests spread over the 40 minutes from `start`. */
function session(start: number, count: number): AccessEvent[] {
  return Array.from({ length: count }, (_, i) =>
    makeEvent({ actor: PERSON, time: start + Math.floor((i * 40 * MINUTE) / count), collection: 'hr-docs' }),
  );
}

const newRuntime = () => createDetectorRuntime([createOffHoursDetector(PARAMS)]);

describe('off-hours: the profile', () => {
  it('measures the distance to the nearest usual hour of the same kind of day, around midnight', () => {
    const profile = new Uint8Array(48);
    profile[9] = 6;
    profile[23] = 2;
    profile[12] = 1; // flagged once: not yet usual
    expect(distanceToProfile(profile, 9)).toBe(0);
    expect(distanceToProfile(profile, 11)).toBe(2);
    expect(distanceToProfile(profile, 12)).toBe(3);
    expect(distanceToProfile(profile, 1)).toBe(2);
    expect(distanceToProfile(profile, 30)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('off-hours: normal behaviour', () => {
  it('raises nothing for four weeks of office hours with early starts and late evenings', () => {
    expect(newRuntime().process(officeWeeks(MONDAY, 28, 1), MONDAY + 28 * DAY)).toEqual([]);
  });

  it('raises nothing for a handful of requests in an empty hour (under min_events)', () => {
    const events = [...officeWeeks(MONDAY, 14, 2), ...session(MONDAY + 14 * DAY + 2 * HOUR, 3)];
    expect(newRuntime().process(events, MONDAY + 15 * DAY)).toEqual([]);
  });

  it('raises nothing during warm-up', () => {
    const events = [...officeWeeks(MONDAY, 5, 3), ...session(MONDAY + 4 * DAY + 2 * HOUR + 30 * MINUTE, 200)];
    expect(newRuntime().process(events, MONDAY + 5 * DAY)).toEqual([]);
  });
});

describe('off-hours: a session at 02:00 on a weekday', () => {
  const hour = MONDAY + 15 * DAY + 2 * HOUR;
  const night = session(hour + 10 * MINUTE, 120);
  const nightIds = new Set(night.map((e) => e.event_id));
  const events = [...officeWeeks(MONDAY, 16, 4), ...night];
  const now = MONDAY + 16 * DAY;
  const findings = newRuntime().process(events, now);

  it('raises one finding for the hour, ending on its full count', () => {
    expect(new Set(findings.map((f) => f.finding_id))).toEqual(
      new Set([deterministicId('off-hours', TENANT, PERSON, hour)]),
    );
    const f = findings.at(-1)!;
    expect(f.observed).toBe(120);
    expect(f.expected).toBe(0);
    expect(f.severity).toBe('high');
  });

  it('explains it: the empty slot, the distance to the profile, evidence from the session', () => {
    for (const f of findings) {
      expect(findingSchema.safeParse(f).success).toBe(true);
      expect(f.features.slot_half_days).toBe(0);
      expect(f.features.hours_to_profile).toBeGreaterThanOrEqual(5);
      expect(f.evidence).toHaveLength(5);
      for (const id of f.evidence) expect(nightIds.has(id)).toBe(true);
      expect(f.attack_techniques).toEqual(['T1078']);
    }
    expect(findings[0]!.evidence[0]).toBe(night[0]!.event_id);
    expect(findings.at(-1)!.sentence).toMatch(
      new RegExp(
        `^${PERSON} made 120 requests in the hour from 2026-11-17T02:00Z \\(Tuesday 02:00 UTC\\), an hour outside its usual profile; the nearest hour it is usually active in is \\d h away`,
      ),
    );
  });

  it('gives the same findings on a fresh runtime', () => {
    expect(newRuntime().process(events, now)).toEqual(findings);
  });

  it('fires on weekend activity for a weekday-only identity', () => {
    const saturday = MONDAY + 12 * DAY + 11 * HOUR;
    const f = newRuntime().process(
      [...officeWeeks(MONDAY, 12, 5), ...session(saturday, 30)],
      MONDAY + 13 * DAY,
    );
    expect(f.length).toBeGreaterThan(0);
    expect(f.at(-1)!.sentence).toContain('it is never active on a weekend');
  });

  it('keeps firing through a night of scraping: flagged hours do not teach the profile', () => {
    const night: AccessEvent[] = [];
    for (let h = 0; h < 6; h++) night.push(...session(MONDAY + 15 * DAY + h * HOUR, 25));
    night.push(makeEvent({ actor: PERSON, time: MONDAY + 15 * DAY + 9 * HOUR }));
    const f = newRuntime().process([...officeWeeks(MONDAY, 15, 9), ...night], MONDAY + 16 * DAY);
    const hours = new Set(f.map((x) => new Date(x.event_time).getUTCHours()));
    expect([...hours].sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('learns a new schedule on its second day', () => {
    const early = (d: number) => session(MONDAY + d * DAY + 5 * HOUR, 20);
    const events = [...officeWeeks(MONDAY, 18, 10), ...early(14), ...early(15), ...early(16), ...early(17)];
    const f = newRuntime().process(events, MONDAY + 18 * DAY);
    const days = new Set(f.map((x) => Math.floor((x.event_time - MONDAY) / DAY)));
    expect([...days].sort((x, y) => x - y)).toEqual([14, 15]);
  });

  it('does not fire on an hour next to the profile, however busy (working late)', () => {
    const evening = MONDAY + 15 * DAY + 19 * HOUR;
    const rt = newRuntime();
    expect(rt.process([...officeWeeks(MONDAY, 15, 6), ...session(evening, 300)], MONDAY + 16 * DAY)).toEqual(
      [],
    );
  });
});

describe('off-hours: compact state', () => {
  it('keeps 48 one-byte slots, whatever the traffic', () => {
    const rt = newRuntime();
    const key = `${TENANT}\u0000${PERSON}`;
    rt.process(officeWeeks(MONDAY, 7, 7), MONDAY + 7 * DAY);
    const before = estimateStateBytes(rt.stateOf('off-hours', key) as OffHoursState);
    const start = MONDAY + 7 * DAY;
    const events = Array.from({ length: 10_000 }, (_, i) =>
      makeEvent({
        actor: PERSON,
        time: start + i * 30_000,
        collection: `c-${i % 1000}`,
        src_net: `net_k1_n${i % 1000}`,
      }),
    );
    rt.process(events, start);
    const state = rt.stateOf('off-hours', key) as OffHoursState;
    expect(state.profile.byteLength).toBe(48);
    expect(estimateStateBytes(state)).toBeLessThanOrEqual(before + 700);
    expect(estimateStateBytes(state)).toBeLessThan(900);
  });

  it('forgets hours no longer worked', () => {
    const rt = newRuntime();
    const key = `${TENANT}\u0000${PERSON}`;
    rt.process(officeWeeks(MONDAY, 7, 8), MONDAY + 7 * DAY);
    // Three months of nothing but a weekly Monday 12:00 check-in: five days at 10:00 (10 half-days)
    // halve below ACTIVE in three 28-day periods.
    const checkins = Array.from({ length: 13 }, (_, w) =>
      makeEvent({ actor: PERSON, time: MONDAY + (7 + 7 * w) * DAY + 12 * HOUR }),
    );
    rt.process(checkins, MONDAY + 98 * DAY);
    const state = rt.stateOf('off-hours', key) as OffHoursState;
    expect(state.profile[10]).toBeLessThan(ACTIVE);
    expect(state.profile[12]).toBeGreaterThanOrEqual(ACTIVE);
  });
});

describe('off-hours: bootstrap from the rollup (restart without checkpoints)', () => {
  const key = `${TENANT}\u0000${PERSON}`;
  const liveStart = MONDAY + 15 * DAY + 2 * HOUR;
  const night = session(liveStart + 10 * MINUTE, 120);
  const morning = makeEvent({ actor: PERSON, time: MONDAY + 15 * DAY + 10 * HOUR });

  /** A runtime that starts at `before`, the identity bootstrapped from its rollup of `history`. */
  function bootstrapped(history: AccessEvent[], before: number) {
    return bootstrapFrom(newRuntime(), history, { tenant: TENANT, actors: [PERSON], before });
  }

  it('learns the same hour-of-week profile as a runtime that saw the events, and raises the same findings', () => {
    const history = officeWeeks(MONDAY, 15, 4);
    const learned = newRuntime();
    learned.process(history, liveStart);
    const expected = learned.process([...night, morning], MONDAY + 16 * DAY);
    const rt = bootstrapped(history, liveStart);
    const got = rt.process([...night, morning], MONDAY + 16 * DAY);
    expect(got.length).toBeGreaterThan(0);
    expect(got).toEqual(expected);
    const a = learned.stateOf('off-hours', key) as OffHoursState;
    const b = rt.stateOf('off-hours', key) as OffHoursState;
    expect([...b.profile]).toEqual([...a.profile]);
    expect(b.firstHour).toBe(a.firstHour);
  });

  it('raises nothing for the next office days after a restart (no warm-up, no flood)', () => {
    const weeks = officeWeeks(MONDAY, 21, 7);
    const before = MONDAY + 14 * DAY;
    const rt = bootstrapped(weeks, before);
    expect(
      rt.process(
        weeks.filter((e) => e.time >= before),
        MONDAY + 21 * DAY,
      ),
    ).toEqual([]);
  });

  it('counts an hour that would have fired as half, as live traffic does (a past night stays off-profile)', () => {
    const pastNight = session(MONDAY + 10 * DAY + 2 * HOUR, 60);
    const history = [...officeWeeks(MONDAY, 15, 8), ...pastNight];
    const learned = newRuntime();
    learned.process(history, liveStart);
    learned.process([morning], MONDAY + 16 * DAY);
    const rt = bootstrapped(history, liveStart);
    rt.process([morning], MONDAY + 16 * DAY);
    const slot = 2; // weekday 02:00
    expect((rt.stateOf('off-hours', key) as OffHoursState).profile[slot]).toBe(1);
    expect([...(rt.stateOf('off-hours', key) as OffHoursState).profile]).toEqual([
      ...(learned.stateOf('off-hours', key) as OffHoursState).profile,
    ]);
  });

  it('without the bootstrap the same runtime would be in warm-up and miss the night session', () => {
    expect(newRuntime().process(night, MONDAY + 16 * DAY)).toEqual([]);
  });
});
