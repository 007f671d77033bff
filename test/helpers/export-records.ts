// Factories for the records the exporters carry (findings and events come from factories.ts).
import type { Action, Incident } from '../../src/model/index.js';
import { deterministicId } from '../../src/model/index.js';
import type { ExportRecord } from '../../src/export/index.js';
import { makeEvent, makeFinding } from './factories.js';
import { testTime } from './clock.js';

let seq = 0;

export function makeIncident(over: Partial<Incident> = {}): Incident {
  seq++;
  const t = testTime(0, 10, 5, 0);
  return {
    incident_id: deterministicId('incident', seq),
    tenant: 't-test',
    actor: 'usr_k1_testactor000000000000',
    status: 'open',
    severity: 'critical',
    risk: 87.5,
    title: 'Request volume spike by usr_k1_testactor000000000000',
    summary: 'usr_k1_testactor000000000000 made 500 requests in 10 min; its usual is 3 ± 2.',
    finding_ids: ['f1', 'f2'],
    opened_time: t,
    updated_time: t,
    updated_by: 'responder',
    ...over,
  };
}

export function makeAction(over: Partial<Action> = {}): Action {
  seq++;
  return {
    action_id: deterministicId('action', seq),
    job_id: deterministicId('job', seq),
    incident_id: 'inc-1',
    tenant: 't-test',
    kind: 'revoke',
    target: 'qdrant.internal',
    mode: 'enforce',
    attempt: 1,
    outcome: 'succeeded',
    latency_ms: 12,
    error: '',
    time: testTime(0, 10, 6, 0),
    ...over,
  };
}

/** One record of every kind, with the given overrides on each value. */
export function oneOfEach(): ExportRecord[] {
  return [
    { kind: 'finding', value: makeFinding() },
    { kind: 'incident', value: makeIncident() },
    {
      kind: 'event',
      value: makeEvent({ src_ip: 'ip_k1_aaaa', src_net: 'net_k1_bbbb', session: 'ses_k1_c' }),
    },
    { kind: 'action', value: makeAction(), actor: 'usr_k1_testactor000000000000' },
  ];
}
