// A finding keeps its history through re-issues: the event time it first fired never moves, each
// issue is counted, and `vigil findings` shows when it first fired. (The detectors' own re-issues
// are held by bulk-extraction.test.ts and volume-spike.test.ts beside this one; the store by
// test/integration/store.test.ts.)
import { describe, expect, it } from 'vitest';
import {
  blankFiring,
  type Firing,
  issue,
  makeFinding,
  markFired,
  resetFiring,
} from '../../../detectors/shared/index.js';
import { FINDING_COLUMNS, findingTableRows } from '../../../src/cli/format.js';
import { findingSchema } from '../../../src/model/index.js';
import { testTime } from '../../helpers/clock.js';
import { makeEvent, makeFinding as aFinding } from '../../helpers/factories.js';

const T0 = testTime(0, 3);

const firing = (): Firing => blankFiring();

describe('shared firing', () => {
  it('keeps the first firing time through escalations and counts every issue', () => {
    const s = firing();
    markFired(s, 10, 0.7, makeEvent({ time: T0 }));
    expect(issue(s)).toEqual({
      eventTime: T0,
      firstObservedTime: expect.any(Number),
      firstFiredTime: T0,
      updateCount: 1,
    });
    markFired(s, 20, 0.8, makeEvent({ time: T0 + 60_000 }));
    expect(issue(s)).toMatchObject({ eventTime: T0 + 60_000, firstFiredTime: T0, updateCount: 2 });
    // The closing re-issue (final numbers, no new firing) is an issue too.
    expect(issue(s)).toMatchObject({ eventTime: T0 + 60_000, firstFiredTime: T0, updateCount: 3 });
  });

  it('starts afresh with the next window', () => {
    const s = firing();
    markFired(s, 10, 0.7, makeEvent({ time: T0 }));
    issue(s);
    resetFiring(s);
    markFired(s, 10, 0.7, makeEvent({ time: T0 + 3_600_000 }));
    expect(issue(s)).toMatchObject({ firstFiredTime: T0 + 3_600_000, updateCount: 1 });
  });

  it('takes a state checkpointed before the fields existed as having fired at its last firing', () => {
    const { firstFiredTime: _f, issues: _i, ...old } = firing();
    const s = { ...old, firedObserved: 10, firedScore: 0.7, firedTime: T0, firedObservedTime: T0 } as Firing;
    expect(issue(s)).toMatchObject({ eventTime: T0, firstFiredTime: T0, updateCount: 1 });
  });
});

describe('makeFinding', () => {
  const base = {
    detector: 'x',
    scope: 'x',
    tenant: 't',
    entityType: 'actor' as const,
    entity: 'usr_k1_a',
    actor: 'usr_k1_a',
    windowStart: T0,
    score: 0.8,
    confidence: 1,
    eventTime: T0 + 5_000,
    firstObservedTime: T0 + 5_010,
    now: T0 + 6_000,
    title: 't',
    sentence: 's',
    observed: 1,
    expected: 0,
    bandLow: 0,
    bandHigh: 0,
    baselinePeriod: '',
    features: {},
    evidence: [],
    techniques: [],
  };

  it('carries the first firing and the issue count', () => {
    const f = makeFinding({ ...base, firstFiredTime: T0, updateCount: 4 });
    expect(f).toMatchObject({ event_time: T0 + 5_000, first_fired_time: T0, update_count: 4 });
  });

  it('is a first issue when not told otherwise', () => {
    expect(makeFinding(base)).toMatchObject({ first_fired_time: T0 + 5_000, update_count: 1 });
  });
});

describe('vigil findings (table)', () => {
  it('shows when each finding first fired, its latest issue and the number of issues', () => {
    const f = aFinding({ event_time: T0 + 600_000, first_fired_time: T0 + 35_000, update_count: 4 });
    const [row] = findingTableRows([f]) as Array<Record<string, unknown>>;
    expect(FINDING_COLUMNS.slice(0, 4)).toEqual(['finding_id', 'first_fired', 'updated', 'updates']);
    expect(row).toMatchObject({
      first_fired: new Date(T0 + 35_000).toISOString().replace('.000Z', 'Z'),
      updated: new Date(T0 + 600_000).toISOString().replace('.000Z', 'Z'),
      updates: 4,
    });
  });
});

describe('findingSchema', () => {
  it('reads a finding written before findings kept their history as one issue at its event time', () => {
    const { first_fired_time: _f, update_count: _u, ...older } = aFinding({ event_time: T0 });
    expect(findingSchema.parse(older)).toMatchObject({ first_fired_time: T0, update_count: 1 });
  });

  it('refuses a finding with half its history, naming the missing field', () => {
    const { update_count: _u, ...half } = aFinding({ event_time: T0 });
    const r = findingSchema.safeParse(half);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.'))).toEqual(['update_count']);
  });
});
