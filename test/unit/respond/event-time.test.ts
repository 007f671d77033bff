// The responder runs in event time: a replay of history opens the incidents live operation opened,
// at the times it opened them, with risk decaying between findings as it did. Only the rows' write
// times (updated_time) come from the clock the replay runs by.
import { afterEach, describe, expect, it } from 'vitest';
import { responseSchema } from '../../../src/config/index.js';
import { createRiskEngine } from '../../../src/detect/risk.js';
import type { Finding, Incident } from '../../../src/model/index.js';
import {
  type ActionQueue,
  createInProcessQueue,
  createIncidentBook,
  createResponder,
} from '../../../src/respond/index.js';
import { createLogger, createMetrics } from '../../../src/telemetry/index.js';
import { testTime } from '../../helpers/clock.js';
import { makeFinding } from '../../helpers/factories.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const ACTOR = 'usr_k1_eventtime00000000000000';
/** When the first finding fired. */
const T0 = testTime(0, 1);
/** The clock a replay runs by: a month after the events. */
const REPLAY_CLOCK = T0 + 30 * 24 * HOUR;

const queues: ActionQueue[] = [];
afterEach(async () => {
  await Promise.all(queues.splice(0).map((q) => q.close()));
});

/** A responder with the default response settings (group window 1 h, risk 28, half-life 6 h). */
function responder(clock: () => number) {
  const config = responseSchema.parse({});
  const queue = createInProcessQueue({ maxAttempts: 1, backoffBaseMs: 10 });
  queues.push(queue);
  /** The latest version of every incident, in the order they were opened. */
  const incidents = new Map<string, Incident>();
  const r = createResponder({
    config,
    queue,
    book: createIncidentBook(config.incident_group_window),
    risk: createRiskEngine({
      halfLifeMs: config.risk_half_life,
      incidentThreshold: config.incident_min_risk,
      groupWindowMs: config.incident_group_window,
    }),
    saveIncident: async (i) => void incidents.set(i.incident_id, i),
    recordAttempt: async () => {},
    alreadySucceeded: async () => false,
    webhookTargets: [],
    logger: createLogger('silent'),
    metrics: createMetrics(),
    now: clock,
  });
  return { handle: (f: Finding[]) => r.handleFindings(f), incidents: () => [...incidents.values()] };
}

/**
 * Findings of one identity, one every `gapMs`, each medium with score 0.6 (below
 * incident_min_score alone): 20 × 0.6 = 12 risk points each.
 */
function trickle(count: number, gapMs: number): Finding[] {
  return Array.from({ length: count }, (_, i) =>
    makeFinding({
      actor: ACTOR,
      entity: ACTOR,
      severity: 'medium',
      score: 0.6,
      confidence: 1,
      event_time: T0 + i * gapMs,
      first_fired_time: T0 + i * gapMs,
    }),
  );
}

/** Live operation: each finding handled when it fired (the wall clock then equals its event time). */
async function live(findings: Finding[]) {
  let clock = 0;
  const r = responder(() => clock);
  for (const f of findings) {
    clock = f.event_time + 2_000;
    await r.handle([f]);
  }
  return r.incidents();
}

/** A replay: every finding handled in one batch, a month later. */
async function replay(findings: Finding[]) {
  const r = responder(() => REPLAY_CLOCK);
  await r.handle(findings);
  return r.incidents();
}

const shape = (incidents: Incident[]) =>
  incidents.map((i) => ({ opened: i.opened_time, last: i.last_event_time, findings: i.finding_ids.length }));

describe('responder in event time', () => {
  it('replays seven hourly findings of one identity into the incidents live operation opened', async () => {
    // Every 70 min: hourly findings whose gaps exceed the 1 h group window. Risk (half-life 6 h,
    // ×0.874 per gap): 12, 22.5, 31.7 → the third opens an incident (≥ 28); the fourth to seventh
    // each come 70 min after the incident's latest finding, so each opens its own: five incidents.
    // On the replay's clock (all at once) they were one incident with all seven findings' risk.
    const findings = trickle(7, 70 * MINUTE);
    const expected = [2, 3, 4, 5, 6].map((i) => ({
      opened: T0 + i * 70 * MINUTE,
      last: T0 + i * 70 * MINUTE,
      findings: 1,
    }));
    expect(shape(await live(findings))).toEqual(expected);
    const replayed = await replay(findings);
    expect(shape(replayed)).toEqual(expected);
    // Written now, opened in the past.
    for (const i of replayed) expect(i.updated_time).toBe(REPLAY_CLOCK);
  });

  it('groups findings within the window of the latest one in event time, however late they are read', async () => {
    const findings = trickle(7, 50 * MINUTE);
    const expected = [{ opened: T0 + 100 * MINUTE, last: T0 + 300 * MINUTE, findings: 5 }];
    expect(shape(await live(findings))).toEqual(expected);
    expect(shape(await replay(findings))).toEqual(expected);
  });

  it('lets risk decay between findings far apart in event time, as it did live', async () => {
    // 12 h apart (two half-lives): 12, 15, 15.75, … never 28. Undecayed they would sum to 28+.
    const findings = trickle(4, 12 * HOUR);
    expect(await live(findings)).toEqual([]);
    expect(await replay(findings)).toEqual([]);
  });

  it('opens an incident of a replay far in the past at the event time of its finding', async () => {
    const old = makeFinding({
      actor: ACTOR,
      entity: ACTOR,
      severity: 'critical',
      score: 0.95,
      event_time: T0,
      first_fired_time: T0 - 10 * MINUTE,
    });
    const [incident] = await replay([old]);
    expect(incident).toMatchObject({ opened_time: T0, last_event_time: T0, updated_time: REPLAY_CLOCK });
    expect(incident!.opened_time).toBeLessThan(REPLAY_CLOCK - 29 * 24 * HOUR);
  });
});

describe('an incident follows the latest update of its findings', () => {
  it('retitles the incident when a finding comes back with larger figures and the risk has decayed', async () => {
    const r = responder(() => REPLAY_CLOCK);
    const first = makeFinding({
      actor: ACTOR,
      entity: ACTOR,
      severity: 'critical',
      score: 0.95,
      confidence: 1,
      event_time: T0,
      first_fired_time: T0,
      title: 'Bulk extraction: 50k rows / 104.9 MB in an hour',
    });
    await r.handle([first]);
    expect(r.incidents()).toHaveLength(1);
    // Re-issued 50 minutes later with bigger numbers but the same score: it adds no points, and
    // the identity's risk has decayed below the bar meanwhile.
    const later = {
      ...first,
      event_time: T0 + 50 * MINUTE,
      update_count: 2,
      title: 'Bulk extraction: 400k rows / 867.8 MB in an hour',
    };
    await r.handle([later]);
    const [incident] = r.incidents();
    expect(r.incidents()).toHaveLength(1);
    expect(incident!.title).toBe(`Bulk extraction: 400k rows / 867.8 MB in an hour (${ACTOR})`);
  });
});
