// new-collection: first access to a collection after warm-up, weighted by peer rarity (co-access
// or an attribute) and sensitivity, driven through the detector runtime over simulated days.
import { describe, expect, it } from 'vitest';
import {
  createNewCollectionDetector,
  estimateStateBytes,
  type NewCollectionState,
  sensitivityResolver,
  newCollectionLayout,
} from '../../../detectors/new-collection/new-collection.detector.js';
import { sensitivityJudge } from '../../../detectors/shared/index.js';
import { createPeerBook, type PeerBook } from '../../../detectors/new-collection/peer-book.js';
import {
  type NewCollectionParams,
  newCollectionParamsSchema,
} from '../../../detectors/new-collection/new-collection.params.js';
import { pipelineSchema } from '../../../src/config/pipeline.js';
import { detectorRuntimeOptions } from '../../../src/detect/risk-options.js';
import { createDetectorRuntime } from '../../../src/detect/runtime.js';
import { type AccessEvent, deterministicId, type Finding, findingSchema } from '../../../src/model/index.js';
import { prng as rng } from '../../../src/cli/demo/workload.js';
import { makeEvent } from '../../helpers/factories.js';
import { bootstrapFrom, historyOf } from '../../helpers/rollup.js';

const PARAMS = newCollectionParamsSchema.parse({
  collections: { customer_pii: { sensitivity: 'high' }, 'payroll-*': { sensitivity: 'critical' } },
});
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Monday 2 November 2026, 00:00 UTC. */
const MONDAY = Date.UTC(2026, 10, 2);
const TENANT = 't-test';
const ANALYSTS = Array.from({ length: 6 }, (_, i) => `usr_k1_analyst${i}AAAAAAAAAAAAAA`);
const ENGINEERS = Array.from({ length: 6 }, (_, i) => `usr_k1_engineer${i}BBBBBBBBBBBBB`);
const SCIENTIST = 'usr_k1_scientistCCCCCCCCCCCCC';
const ANALYST = ANALYSTS[0]!;

/**
 * Two teams, every day 09–17. Analysts use the six `reports-*` collections and `wiki`, engineers
 * the six `code-*` and `wiki`; each person starts on four of their team's six and, now and then
 * (noise), opens one of the other two that their teammates use. A data scientist opens a brand-new
 * scratch collection every day.
 */
function teamDays(start: number, days: number, seed: number, withAttribute = false): AccessEvent[] {
  const rand = rng(seed);
  const out: AccessEvent[] = [];
  const team = (people: string[], prefix: string, label: string) => {
    for (const [p, actor] of people.entries()) {
      const usual = [0, 1, 2, 3].map((k) => `${prefix}-${(p + k) % 6}`);
      for (let d = 0; d < days; d++)
        for (let h = 9; h < 17; h++) {
          const pool =
            rand() < 0.03 ? [`${prefix}-${(p + 4 + Math.floor(rand() * 2)) % 6}`] : [...usual, 'wiki'];
          out.push(
            makeEvent({
              actor,
              time: start + d * DAY + h * HOUR + Math.floor(rand() * 50) * MINUTE,
              collection: pool[Math.floor(rand() * pool.length)]!,
              attributes: withAttribute ? { team: label } : {},
            }),
          );
        }
    }
  };
  team(ANALYSTS, 'reports', 'analysts');
  team(ENGINEERS, 'code', 'engineering');
  for (let d = 0; d < days; d++) {
    out.push(makeEvent({ actor: SCIENTIST, time: start + d * DAY + 10 * HOUR, collection: 'wiki' }));
    out.push(makeEvent({ actor: SCIENTIST, time: start + d * DAY + 11 * HOUR, collection: `scratch-${d}` }));
  }
  return out.sort((a, b) => a.time - b.time);
}

function peerBookFor(params: NewCollectionParams): PeerBook {
  return createPeerBook({
    maxCollections: params.max_tenant_collections,
    maxGroups: params.max_peer_groups,
    maxTenants: params.max_tenants,
  });
}

function newRuntime(params: NewCollectionParams = PARAMS, book?: PeerBook) {
  return createDetectorRuntime([createNewCollectionDetector(params, book ?? peerBookFor(params))]);
}

describe('new-collection: sensitivity labels', () => {
  it('resolves exact names, then the longest prefix, then the default', () => {
    const of = sensitivityResolver(
      newCollectionParamsSchema.parse({
        collections: {
          'pay*': { sensitivity: 'high' },
          'payroll-*': { sensitivity: 'critical' },
          kb: { sensitivity: 'low' },
        },
      }),
    );
    expect(of('kb')).toBe('low');
    expect(of('payroll-2026')).toBe('critical');
    expect(of('payments')).toBe('high');
    expect(of('wiki')).toBe('medium');
  });

  it('makes collections with sensitive words in their names sensitive out of the box', () => {
    const judge = sensitivityJudge(newCollectionParamsSchema.parse({}));
    expect(judge('customer_pii')).toEqual({
      level: 'high',
      reason: 'its name matches the sensitivity pattern "pii"',
    });
    expect(judge('hr_docs').level).toBe('high');
    expect(judge('HRDocs').level).toBe('medium'); // one word "hrdocs": no pattern is a whole word of it
    expect(judge('PayrollData').level).toBe('high');
    expect(judge('finance-reports-2026').level).toBe('high');
    expect(judge('legal.contracts').level).toBe('high');
    expect(judge('medical_records').level).toBe('high');
    expect(judge('api-credentials').level).toBe('critical');
    // The most sensitive matching word wins.
    expect(judge('hr_secrets')).toMatchObject({ level: 'critical' });
    // Words, not substrings: these are no HR, tax or PII data.
    for (const name of ['chrome_bookmarks', 'hrefs', 'syntax_trees', 'pipeline_docs', 'kb', 'wiki']) {
      expect(judge(name)).toEqual({
        level: 'medium',
        reason: 'the default for a collection without a label or a sensitive word in its name',
      });
    }
  });

  it('puts a configured label before a pattern, and lets the patterns be replaced', () => {
    const labelled = sensitivityJudge(
      newCollectionParamsSchema.parse({
        collections: { hr_wiki: { sensitivity: 'low' }, 'finance-*': { sensitivity: 'critical' } },
      }),
    );
    expect(labelled('hr_wiki')).toEqual({ level: 'low', reason: 'labelled in the configuration' });
    expect(labelled('finance-q3')).toEqual({
      level: 'critical',
      reason: 'labelled in the configuration as finance-*',
    });
    const own = sensitivityJudge(
      newCollectionParamsSchema.parse({ sensitivity_patterns: { scratch: 'low' } }),
    );
    expect(own('customer_pii').level).toBe('medium');
    expect(own('scratch_space').level).toBe('low');
    expect(
      sensitivityJudge(newCollectionParamsSchema.parse({ sensitivity_patterns: {} }))('hr_docs').level,
    ).toBe('medium');
  });

  it('refuses a pattern that is not one lowercase word, or an unknown level, naming the field', () => {
    for (const bad of [{ 'hr*': 'high' }, { Payroll: 'high' }, { pii: 'severe' }]) {
      const r = newCollectionParamsSchema.safeParse({ sensitivity_patterns: bad });
      expect(r.success).toBe(false);
      expect(r.error!.issues[0]!.path[0]).toBe('sensitivity_patterns');
    }
    expect(newCollectionParamsSchema.safeParse({ sensitivity_pattern: { pii: 'high' } }).success).toBe(false);
  });
});

describe('new-collection: normal behaviour', () => {
  it('raises nothing for three weeks of two teams opening collections their teammates use, nor for an explorer', () => {
    expect(newRuntime().process(teamDays(MONDAY, 21, 1), MONDAY + 21 * DAY)).toEqual([]);
  });

  it('raises nothing during warm-up, whatever is opened', () => {
    const early = makeEvent({
      actor: ANALYST,
      time: MONDAY + 3 * DAY + 10 * HOUR,
      collection: 'customer_pii',
    });
    expect(newRuntime().process([...teamDays(MONDAY, 4, 2), early], MONDAY + 4 * DAY)).toEqual([]);
  });
});

describe('new-collection: an analyst opens a sensitive collection no peer uses', () => {
  const t = MONDAY + 10 * DAY + 14 * HOUR + 12 * MINUTE;
  const first = makeEvent({ actor: ANALYST, time: t, collection: 'customer_pii', operation: 'scroll' });
  const again = makeEvent({
    actor: ANALYST,
    time: t + 5 * MINUTE,
    collection: 'customer_pii',
    operation: 'scroll',
  });
  const events = [...teamDays(MONDAY, 11, 3), first, again];
  const now = MONDAY + 11 * DAY;
  const findings = newRuntime().process(events, now);

  it('raises one high finding, once (the second access is no longer new)', () => {
    expect(findings).toHaveLength(1);
    const f = findings[0]!;
    expect(findingSchema.safeParse(f).success).toBe(true);
    expect(f.finding_id).toBe(
      deterministicId('new-collection', TENANT, ANALYST, MONDAY + 10 * DAY + 14 * HOUR),
    );
    expect(f.severity).toBe('high');
    expect(f.collection).toBe('customer_pii');
    expect(f.evidence).toEqual([first.event_id]);
    expect(f.features.peer_share).toBe(0);
    expect(f.features.peer_observations).toBeGreaterThan(10);
    expect(f.observed).toBeGreaterThan(f.band_high);
    expect(f.attack_techniques).toEqual(['T1213', 'T1530']);
  });

  it('says it in one sentence with the actor token, peers, sensitivity and usual rate', () => {
    expect(findings[0]!.sentence).toBe(
      `${ANALYST} used customer_pii (scroll) for the first time at 2026-11-12T14:12Z; 0% of its co-access peers used it, ` +
        'and it usually opens 0 collections a week that its peers do not use.',
    );
  });

  it("ends with the collection's sensitivity and why, when the runtime explains findings as the pipeline does", () => {
    const pipeline = pipelineSchema.parse({
      version: 1,
      detectors: { 'new-collection': { collections: { customer_pii: { sensitivity: 'high' } } } },
    });
    const explained = createDetectorRuntime([createNewCollectionDetector(PARAMS, peerBookFor(PARAMS))], {
      explain: detectorRuntimeOptions(pipeline).explain,
    }).process(events, now);
    expect(explained[0]!.sentence).toBe(
      `${findings[0]!.sentence} customer_pii is high-sensitivity (labelled in the configuration).`,
    );
  });

  it('gives the same findings on a fresh runtime', () => {
    expect(newRuntime().process(events, now)).toEqual(findings);
  });
});

describe('new-collection: a first access that becomes a habit', () => {
  const t = MONDAY + 10 * DAY + 9 * HOUR + 12 * MINUTE;
  /** The first access, then one use in each of the next `hours` − 1 hours (twice in the first). */
  const uses = (hours: number, actorType: 'service' | 'user', gapHours = 1) => [
    ...teamDays(MONDAY, 11, 3),
    ...Array.from({ length: hours }, (_, i) =>
      makeEvent({
        actor: ANALYST,
        actor_type: actorType,
        time: t + i * gapHours * HOUR,
        collection: 'customer_pii',
      }),
    ),
    makeEvent({ actor: ANALYST, actor_type: actorType, time: t + 5 * MINUTE, collection: 'customer_pii' }),
  ];
  const now = MONDAY + 12 * DAY;
  const habits = (fs: Finding[]) => fs.filter((f) => f.title.includes('keeps using'));

  it('follows a service that keeps using the collection: a second, stronger finding in its sixth hour of use', () => {
    const findings = newRuntime().process(uses(6, 'service'), now);
    expect(findings).toHaveLength(2);
    const [first, habit] = findings as [Finding, Finding];
    expect(habit.finding_id).not.toBe(first.finding_id);
    expect(habit.detector).toBe('new-collection');
    expect(habit.collection).toBe('customer_pii');
    expect(habit.event_time).toBe(t + 5 * HOUR);
    expect(habit.score).toBeGreaterThan(first.score);
    expect(habit.score).toBeCloseTo(1 - (1 - first.score) * (1 - 0.6 * 0.8), 10);
    expect(habit.features).toMatchObject({ habit_hours: 6, first_access_score: first.score });
    expect(habit.title).toBe(`${ANALYST} keeps using high-sensitivity collection customer_pii, new to it`);
    expect(habit.sentence).toContain('in 6 separate hours since its first access at 2026-11-12T09:00Z');
    expect(habit.sentence).toContain(
      'a service does that after new code, a new configuration, or with its key in other hands',
    );
    expect(findingSchema.safeParse(habit).success).toBe(true);
  });

  it('says nothing more for five hours of use, for uses spread past the window, or after the habit was reported', () => {
    expect(habits(newRuntime().process(uses(5, 'service'), now))).toEqual([]);
    // Six hours of use, five hours apart: the sixth falls 25 h after the first access.
    expect(habits(newRuntime().process(uses(6, 'service', 5), now))).toEqual([]);
    expect(habits(newRuntime().process(uses(12, 'service'), now))).toHaveLength(1);
  });

  it('leaves people alone by default (a new project looks the same), and follows them with habit_identities: all', () => {
    expect(habits(newRuntime().process(uses(8, 'user'), now))).toEqual([]);
    const all = newCollectionParamsSchema.parse({ ...PARAMS, habit_identities: 'all' });
    const found = habits(newRuntime(all).process(uses(8, 'user'), now));
    expect(found).toHaveLength(1);
    expect(found[0]!.sentence).toContain('(a person)');
    const none = newCollectionParamsSchema.parse({ ...PARAMS, habit_identities: 'none' });
    expect(habits(newRuntime(none).process(uses(8, 'service'), now))).toEqual([]);
  });

  it('takes its hours and window from the parameters, and refuses values it cannot use by name', () => {
    const short = newCollectionParamsSchema.parse({ ...PARAMS, habit_hours: 3, habit_window: '4h' });
    expect(habits(newRuntime(short).process(uses(3, 'service'), now))).toHaveLength(1);
    expect(habits(newRuntime(short).process(uses(3, 'service', 2), now))).toEqual([]);
    for (const bad of [{ habit_hours: 1 }, { habit_identities: 'robots' }, { habit_window: 'a day' }]) {
      const r = newCollectionParamsSchema.safeParse({ ...PARAMS, ...bad });
      expect(r.success).toBe(false);
      if (!r.success) expect(r.error.issues[0]!.path[0]).toBe(Object.keys(bad)[0]);
    }
  });

  it('carries on with a state checkpointed before the follow-up existed (no habit fields)', () => {
    const detector = createNewCollectionDetector(PARAMS, peerBookFor(PARAMS));
    const events = uses(6, 'service').sort((a, b) => a.time - b.time);
    const states = new Map<string, NewCollectionState>();
    const titles: string[] = [];
    for (const e of events) {
      const key = detector.entityKey(e);
      const state = states.get(key) ?? detector.initState(e);
      states.set(key, state);
      if (e.time === t) {
        // As decoded from an older checkpoint: the habit fields were never written.
        const old = state as unknown as Record<string, unknown>;
        for (const k of ['habitCollection', 'habitStart', 'habitHours', 'habitLast', 'habitScore']) {
          expect(k in old).toBe(true);
          delete old[k];
        }
      }
      for (const f of detector.observe(state, e, now)) titles.push(f.title);
    }
    expect(titles).toEqual([
      'First access to high-sensitivity collection customer_pii',
      `${ANALYST} keeps using high-sensitivity collection customer_pii, new to it`,
    ]);
  });
});

describe('new-collection: peer rarity', () => {
  const t = MONDAY + 10 * DAY + 11 * HOUR;

  it("fires (low) when an analyst opens an engineers' collection: none of its co-access peers use it", () => {
    const f = newRuntime().process(
      [...teamDays(MONDAY, 11, 4), makeEvent({ actor: ANALYST, time: t, collection: 'code-2' })],
      MONDAY + 11 * DAY,
    );
    expect(f).toHaveLength(1);
    // Only engineers use it; the analyst meets them in `wiki`, which dilutes the share a little.
    expect(f[0]!.features.peer_share).toBeLessThan(0.1);
    expect(f[0]!.score).toBeGreaterThan(0.5);
    expect(f[0]!.severity).toBe('low');
  });

  it('does not fire when an engineer opens the same collection (its peers use it)', () => {
    const f = newRuntime().process(
      [...teamDays(MONDAY, 11, 4), makeEvent({ actor: ENGINEERS[0]!, time: t, collection: 'code-5' })],
      MONDAY + 11 * DAY,
    );
    expect(f).toEqual([]);
  });

  it('uses the attribute as the peer group when asked to', () => {
    const params = { ...PARAMS, peer_groups: 'attribute' as const };
    const open = makeEvent({
      actor: ANALYST,
      time: t,
      collection: 'customer_pii',
      attributes: { team: 'analysts' },
    });
    const f = newRuntime(params).process([...teamDays(MONDAY, 11, 5, true), open], MONDAY + 11 * DAY);
    expect(f).toHaveLength(1);
    expect(f[0]!.sentence).toContain('0% of the 5 other identities with its team used it');
    expect(f[0]!.features.peer_observations).toBe(5);
  });
});

describe('new-collection: compact state', () => {
  it('keeps the identity at its known-collection cap and the tenant table bounded after 1,000 collections', () => {
    const book = createPeerBook({
      maxCollections: PARAMS.max_tenant_collections,
      maxGroups: 4,
      maxTenants: 2,
    });
    const rt = newRuntime(PARAMS, book);
    rt.process(teamDays(MONDAY, 8, 6), MONDAY + 8 * DAY);
    const key = `${TENANT}\u0000${ANALYST}`;
    const before = estimateStateBytes(rt.stateOf('new-collection', key) as NewCollectionState);
    const start = MONDAY + 8 * DAY;
    const events = Array.from({ length: 10_000 }, (_, i) =>
      makeEvent({ actor: ANALYST, time: start + i * 30_000, collection: `c-${i % 1000}` }),
    );
    rt.process(events, start);
    const state = rt.stateOf('new-collection', key) as NewCollectionState;
    expect(state.buf.byteLength).toBe(4 * PARAMS.max_known);
    expect(estimateStateBytes(state)).toBeLessThanOrEqual(before + 700);
    expect(book.stats().maxCollections).toBe(PARAMS.max_tenant_collections);
    for (let i = 0; i < 5; i++)
      rt.process([makeEvent({ tenant: `t-${i}`, time: start + DAY, collection: 'x' })], start);
    expect(book.stats().tenants).toBe(2);
  });
});

describe('new-collection: bootstrap from the rollup (restart without checkpoints)', () => {
  const history = teamDays(MONDAY, 11, 3);
  const liveStart = MONDAY + 11 * DAY + 9 * HOUR;
  const known = makeEvent({ actor: ANALYST, time: liveStart + 10 * MINUTE, collection: 'reports-1' });
  const sensitive = makeEvent({ actor: ANALYST, time: liveStart + 20 * MINUTE, collection: 'customer_pii' });
  const key = `${TENANT}\u0000${ANALYST}`;
  const actors = [...new Set(history.map((e) => e.actor))];

  /** A runtime that starts after the history, every identity bootstrapped from its rollup. */
  function bootstrapped() {
    return bootstrapFrom(newRuntime(), history, { tenant: TENANT, actors, before: liveStart });
  }
  const knownOf = (s: NewCollectionState) =>
    newCollectionLayout(PARAMS.max_known)
      .sections.known.keys(s.buf)
      .sort((a, b) => a - b);

  it('knows the same collections, from the same first hour, as a runtime that saw the events', () => {
    const learned = newRuntime();
    learned.process(history, liveStart);
    const a = learned.stateOf('new-collection', key) as NewCollectionState;
    const b = bootstrapped().stateOf('new-collection', key) as NewCollectionState;
    expect(knownOf(b)).toEqual(knownOf(a));
    expect(knownOf(b).length).toBeGreaterThanOrEqual(5);
    expect(b.firstHour).toBe(a.firstHour);
    expect(b.discovered).toBeCloseTo(a.discovered, 6);
  });

  it('raises nothing on a known collection and fires on a never-touched one, as the learned runtime does', () => {
    const learned = newRuntime();
    learned.process(history, liveStart);
    const expected = learned.process([known, sensitive], liveStart + HOUR);
    const got = bootstrapped().process([known, sensitive], liveStart + HOUR);
    expect(got).toHaveLength(1);
    expect(got[0]!.collection).toBe('customer_pii');
    expect(got[0]!.severity).toBe('high');
    expect(got[0]!.features.peer_share).toBe(0);
    expect(got).toEqual(expected);
  });

  it('raises nothing for the next days of the same teams (no flood of "new" after a restart)', () => {
    const rt = bootstrapped();
    const next = teamDays(MONDAY, 14, 3).filter((e) => e.time >= liveStart);
    expect(rt.process(next, MONDAY + 14 * DAY)).toEqual([]);
  });

  it('starts its warm-up from the window counts when only the most recent hourly rows were kept', () => {
    const full = historyOf(history, TENANT, ANALYST, liveStart);
    const recent = { ...full, hourly: full.hourly.slice(-40) };
    expect(recent.hourly[0]!.hour).toBeGreaterThan(MONDAY + 5 * DAY);
    const rt = bootstrapped();
    const fresh = newRuntime();
    // The analyst's peers as before; the analyst itself from its last 40 hourly rows only.
    for (const actor of actors.filter((a) => a !== ANALYST))
      fresh.bootstrap(
        makeEvent({ actor, time: liveStart }),
        historyOf(history, TENANT, actor, liveStart),
        liveStart,
      );
    fresh.bootstrap(makeEvent({ actor: ANALYST, time: liveStart }), recent, liveStart);
    const s = fresh.stateOf('new-collection', key) as NewCollectionState;
    expect(s.firstHour).toBe((rt.stateOf('new-collection', key) as NewCollectionState).firstHour);
    expect(s.discovered).toBe(0);
    const f = fresh.process([known, sensitive], liveStart + HOUR);
    expect(f.map((x) => [x.collection, x.severity])).toEqual([['customer_pii', 'high']]);
  });

  it('without the bootstrap the same runtime would be in warm-up and miss the sensitive collection', () => {
    expect(newRuntime().process([known, sensitive], liveStart + HOUR)).toEqual([]);
  });
});
