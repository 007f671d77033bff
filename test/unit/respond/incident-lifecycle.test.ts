// The incident lifecycle (pure), the book's bookkeeping of it, and the scrubbing of raw identifiers
// from adapter messages.
import { describe, expect, it } from 'vitest';
import { createIncidentBook, transitionIncident } from '../../../src/respond/incidents.js';
import { scrubMessage } from '../../../src/respond/responder.js';
import { makeFinding } from '../../helpers/factories.js';

const T0 = Date.UTC(2026, 10, 2, 10);

describe('transitionIncident', () => {
  const { incident } = createIncidentBook(3_600_000).upsert(makeFinding(), T0);

  it.each([
    ['open', 'acknowledged', true],
    ['open', 'contained', true],
    ['open', 'resolved', true],
    ['acknowledged', 'contained', true],
    ['acknowledged', 'resolved', true],
    ['contained', 'acknowledged', true],
    ['contained', 'resolved', true],
    ['acknowledged', 'open', false],
    ['resolved', 'acknowledged', false],
    ['resolved', 'contained', false],
    ['contained', 'contained', false],
  ] as const)('%s → %s: %s', (from, to, ok) => {
    const r = transitionIncident({ ...incident, status: from }, to, 'analyst:1', T0 + 5);
    expect(r.ok).toBe(ok);
    if (r.ok) expect(r.incident).toMatchObject({ status: to, updated_by: 'analyst:1', updated_time: T0 + 5 });
  });
});

describe('incident book lifecycle', () => {
  it('keeps an acknowledged or contained incident open for new findings; a resolved one leaves', () => {
    const book = createIncidentBook(3_600_000);
    const f = makeFinding();
    const { incident } = book.upsert(f, T0);
    book.replace({ ...incident, status: 'contained' });
    const next = book.upsert(makeFinding({ actor: f.actor, entity: f.actor }), T0 + 1000);
    expect(next).toMatchObject({
      created: false,
      incident: { status: 'contained', incident_id: incident.incident_id },
    });
    expect(book.get(incident.incident_id)?.status).toBe('contained');
    book.replace({ ...next.incident, status: 'resolved' });
    expect(book.get(incident.incident_id)).toBeUndefined();
    expect(book.upsert(makeFinding({ actor: f.actor, entity: f.actor }), T0 + 2000).created).toBe(true);
  });

  it('loads every live status, oldest first so the newest wins', () => {
    const book = createIncidentBook(3_600_000);
    const { incident } = createIncidentBook(3_600_000).upsert(makeFinding(), T0);
    book.load([
      { ...incident, incident_id: 'old', status: 'acknowledged' },
      { ...incident, incident_id: 'new', status: 'contained' },
      { ...incident, incident_id: 'done', status: 'resolved' },
    ]);
    expect(book.peek(incident.tenant, incident.actor)?.incident_id).toBe('new');
    expect(book.get('done')).toBeUndefined();
  });
});

describe('scrubMessage', () => {
  it('replaces the raw identifier and its URL-encoded form by the token', () => {
    const msg =
      'weaviate deactivate: answered 404: user dana@corp.test not found at /v1/users/db/dana%40corp.test';
    expect(scrubMessage(msg, 'dana@corp.test', 'usr_k1_x')).toBe(
      'weaviate deactivate: answered 404: user <usr_k1_x> not found at /v1/users/db/<usr_k1_x>',
    );
  });

  it('leaves messages alone without a raw value, or with a one-character one', () => {
    expect(scrubMessage('a b c', undefined, 't')).toBe('a b c');
    expect(scrubMessage('a b c', 'a', 't')).toBe('a b c');
  });
});
