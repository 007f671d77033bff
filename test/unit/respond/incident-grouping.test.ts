// Incident grouping: one open incident per identity within the group window (event time),
// deterministic ids, redelivery changes nothing, severity only rises. The book's `now` is the wall
// clock a row is written at; the findings' event times decide everything else.
import { describe, expect, it } from 'vitest';
import { deterministicId, type Incident } from '../../../src/model/index.js';
import { createIncidentBook, riskAfter } from '../../../src/respond/incidents.js';
import { testTime } from '../../helpers/clock.js';
import { makeFinding } from '../../helpers/factories.js';

const HOUR = 3_600_000;
/** Event time of the first finding. */
const T0 = testTime(0, 10);
/** The responder's clock: a replay reads the findings long after they happened. */
const WALL = T0 + 30 * 24 * HOUR;
const ALICE = 'usr_k1_aliceAAAAAAAAAAAAAAAAA';
const BOB = 'usr_k1_bobBBBBBBBBBBBBBBBBBBB';

function finding(actor: string, over: Parameters<typeof makeFinding>[0] = {}) {
  return makeFinding({ actor, entity: actor, event_time: T0, first_fired_time: T0, ...over });
}

/** A finding of `actor` that fired `ms` after T0. */
const at = (actor: string, ms: number, over: Parameters<typeof makeFinding>[0] = {}) =>
  finding(actor, { event_time: T0 + ms, first_fired_time: T0 + ms, ...over });

describe('createIncidentBook().upsert', () => {
  it('opens an incident with a deterministic id for the first finding of an identity', () => {
    const f = finding(ALICE, { severity: 'high', score: 0.8, confidence: 1 });
    const { incident, created, changed } = createIncidentBook(HOUR).upsert(f, WALL);
    expect(created).toBe(true);
    expect(changed).toBe(true);
    expect(incident).toMatchObject({
      incident_id: deterministicId('incident', f.tenant, ALICE, f.finding_id),
      tenant: f.tenant,
      actor: ALICE,
      status: 'open',
      severity: 'high',
      finding_ids: [f.finding_id],
      opened_time: T0,
      last_event_time: T0,
      updated_time: WALL,
      summary: f.sentence,
    });
    expect(incident.title).toContain(ALICE);
    expect(incident.risk).toBeCloseTo(riskAfter(0, f), 10);
    expect(createIncidentBook(HOUR).upsert(f, T0 + 5 * HOUR).incident.incident_id).toBe(incident.incident_id);
  });

  it('groups a second finding of the same identity within the window into the same incident', () => {
    const book = createIncidentBook(HOUR);
    const f1 = finding(ALICE);
    const f2 = at(ALICE, 30 * 60_000);
    const first = book.upsert(f1, WALL).incident;
    const second = book.upsert(f2, WALL + 5);
    expect(second.created).toBe(false);
    expect(second.changed).toBe(true);
    expect(second.incident.incident_id).toBe(first.incident_id);
    expect(second.incident.finding_ids).toEqual([f1.finding_id, f2.finding_id]);
    expect(second.incident.opened_time).toBe(T0);
    expect(second.incident.last_event_time).toBe(T0 + 30 * 60_000);
    expect(second.incident.updated_time).toBe(WALL + 5);
    expect(second.incident.risk).toBeGreaterThan(first.risk);
  });

  it('gives a second identity its own incident', () => {
    const book = createIncidentBook(HOUR);
    const a = book.upsert(finding(ALICE), T0);
    const b = book.upsert(finding(BOB), T0 + 1000);
    expect(b.created).toBe(true);
    expect(b.incident.incident_id).not.toBe(a.incident.incident_id);
    expect(b.incident.actor).toBe(BOB);
  });

  it('keeps the same actor token in two tenants apart', () => {
    const book = createIncidentBook(HOUR);
    const a = book.upsert(finding(ALICE, { tenant: 'one' }), T0);
    const b = book.upsert(finding(ALICE, { tenant: 'two' }), T0 + 1000);
    expect(b.created).toBe(true);
    expect(b.incident.incident_id).not.toBe(a.incident.incident_id);
  });

  it('opens a new incident for a finding after the window, in event time', () => {
    const book = createIncidentBook(HOUR);
    // All read at the same wall-clock moment (a replay): the findings' own times decide.
    const first = book.upsert(finding(ALICE), WALL).incident;
    const onEdge = book.upsert(at(ALICE, HOUR), WALL);
    expect(onEdge.created).toBe(false);
    const late = book.upsert(at(ALICE, 2 * HOUR + 1), WALL);
    expect(late.created).toBe(true);
    expect(late.incident.opened_time).toBe(T0 + 2 * HOUR + 1);
    expect(late.incident.incident_id).not.toBe(first.incident_id);
    expect(late.incident.finding_ids).toHaveLength(1);
  });

  it('measures the window from the last update, so a steady trickle stays one incident', () => {
    const book = createIncidentBook(HOUR);
    const id = book.upsert(finding(ALICE), WALL).incident.incident_id;
    for (let i = 1; i <= 5; i++) {
      const r = book.upsert(at(ALICE, i * 50 * 60_000), WALL);
      expect(r.created).toBe(false);
      expect(r.incident.incident_id).toBe(id);
    }
  });

  it('leaves the incident unchanged for a redelivered finding', () => {
    const book = createIncidentBook(HOUR);
    const f = finding(ALICE);
    const first = book.upsert(f, T0).incident;
    const again = book.upsert({ ...f }, T0 + 10_000);
    expect(again.created).toBe(false);
    expect(again.changed).toBe(false);
    expect(again.incident).toEqual(first);
  });

  it('raises the severity to the maximum and never lowers it', () => {
    const book = createIncidentBook(HOUR);
    expect(book.upsert(finding(ALICE, { severity: 'medium' }), T0).incident.severity).toBe('medium');
    expect(book.upsert(finding(ALICE, { severity: 'critical' }), T0 + 1).incident.severity).toBe('critical');
    expect(book.upsert(finding(ALICE, { severity: 'low' }), T0 + 2).incident.severity).toBe('critical');
  });

  it('takes a re-issued finding with a higher severity without counting it twice', () => {
    const book = createIncidentBook(HOUR);
    const f = finding(ALICE, { severity: 'medium', score: 0.65 });
    const first = book.upsert(f, T0).incident;
    const r = book.upsert({ ...f, severity: 'critical', score: 0.99 }, T0 + 1000);
    expect(r.changed).toBe(true);
    expect(r.incident.severity).toBe('critical');
    expect(r.incident.finding_ids).toEqual([f.finding_id]);
    expect(r.incident.risk).toBe(first.risk);
  });
});

describe('createIncidentBook().upsert: the title follows the latest finding', () => {
  it('takes a re-issued finding with larger figures even when its severity and risk did not rise', () => {
    const book = createIncidentBook(HOUR);
    const early = finding(ALICE, {
      severity: 'critical',
      title: 'Bulk extraction: 50k rows / 104.9 MB in an hour',
      sentence: 'early figures',
    });
    book.upsert(early, WALL, { risk: 100, explanation: 'Risk 100.' });
    // The same finding at the end of its hour; the risk engine's sum is capped, and decayed since.
    const later = {
      ...early,
      event_time: T0 + 20 * 60_000,
      title: 'Bulk extraction: 400k rows / 867.8 MB in an hour',
      sentence: 'final figures',
    };
    const r = book.upsert(later, WALL + 1, { risk: 97.5, explanation: 'Risk 97.5.' });
    expect(r.changed).toBe(true);
    expect(r.incident.title).toBe(`Bulk extraction: 400k rows / 867.8 MB in an hour (${ALICE})`);
    expect(r.incident.summary).toBe('final figures Risk 97.5.');
    expect(r.incident.finding_ids).toEqual([early.finding_id]);
  });

  it('follows whichever of its findings was updated last', () => {
    const book = createIncidentBook(HOUR);
    const deletes = at(ALICE, 0, {
      detector: 'destructive-ops',
      title: 'Destructive operations: 139 deletes in an hour',
    });
    const spike = at(ALICE, 60_000, {
      detector: 'volume-spike',
      title: 'Request volume spike: 80 requests in 10 min',
    });
    book.upsert(deletes, WALL);
    book.upsert(spike, WALL);
    const final = book.upsert({ ...deletes, title: 'Destructive operations: 400 deletes in an hour' }, WALL);
    expect(final.incident.title).toBe(`Destructive operations: 400 deletes in an hour (${ALICE})`);
  });
});

describe('createIncidentBook().load', () => {
  const open: Incident = {
    incident_id: 'inc-open',
    tenant: 't-test',
    actor: ALICE,
    status: 'open',
    severity: 'high',
    risk: 10,
    title: 't',
    summary: 's',
    finding_ids: ['f-old'],
    opened_time: T0,
    last_event_time: T0,
    updated_time: T0,
    updated_by: 'vigil',
  };

  it('continues an open incident after a restart', () => {
    const book = createIncidentBook(HOUR);
    book.load([open]);
    const r = book.upsert(at(ALICE, 60_000), WALL);
    expect(r.created).toBe(false);
    expect(r.incident.incident_id).toBe('inc-open');
    expect(r.incident.finding_ids).toHaveLength(2);
  });

  it('does not continue a resolved incident', () => {
    const book = createIncidentBook(HOUR);
    book.load([{ ...open, status: 'resolved' }]);
    expect(book.upsert(at(ALICE, 60_000), WALL).created).toBe(true);
  });

  it('measures the window from the latest finding of a stored incident, in event time', () => {
    const book = createIncidentBook(HOUR);
    // Stored an hour after it opened: its latest finding fired then.
    book.load([{ ...open, last_event_time: T0 + HOUR, updated_time: WALL }]);
    expect(book.upsert(at(ALICE, 2 * HOUR), WALL).incident.incident_id).toBe('inc-open');
    expect(book.upsert(at(ALICE, 3 * HOUR + 1), WALL).created).toBe(true);
  });
});

describe('riskAfter', () => {
  it('adds score × confidence × 10 × severity rank', () => {
    expect(riskAfter(0, makeFinding({ score: 0.5, confidence: 1, severity: 'high' }))).toBeCloseTo(15, 10);
    expect(riskAfter(5, makeFinding({ score: 1, confidence: 0.5, severity: 'low' }))).toBeCloseTo(10, 10);
  });

  it('caps at 100', () => {
    expect(riskAfter(95, makeFinding({ score: 1, confidence: 1, severity: 'critical' }))).toBe(100);
  });
});
