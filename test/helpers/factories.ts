// Test factories: build model values with sensible defaults, overriding only what a test is about.
import type { AccessEvent, Finding } from '../../src/model/index.js';
import type { GenericEvent } from '../../src/collectors/generic/generic.schema.js';
import { blankEvent } from '../../src/collectors/normalize.js';
import { deterministicId } from '../../src/model/index.js';
import { testTime } from './clock.js';

let seq = 0;

export function makeEvent(over: Partial<AccessEvent> = {}): AccessEvent {
  seq++;
  const time = over.time ?? testTime(0, 10, 0, 0);
  return {
    ...blankEvent(time),
    event_id: deterministicId('test', seq, time),
    observed_time: time + 50,
    tenant: 't-test',
    actor: 'usr_k1_testactor000000000000',
    actor_type: 'user',
    system: 'qdrant',
    operation: 'search',
    operation_raw: 'search',
    collection: 'docs',
    top_k: 10,
    returned: 10,
    bytes_out: 1000,
    status_code: 200,
    latency_ms: 3,
    ...over,
  };
}

export function makeGenericEvent(over: Partial<GenericEvent> = {}): GenericEvent {
  seq++;
  return {
    id: `g-${seq}`,
    time: new Date(testTime(0, 10, 0, 0)).toISOString(),
    tenant: 't-test',
    user: 'alice@example.com',
    actor_type: 'user',
    system: 'qdrant',
    operation: 'search',
    collection: 'docs',
    returned: 10,
    ...over,
  };
}

export function makeFinding(over: Partial<Finding> = {}): Finding {
  seq++;
  const t = testTime(0, 10, 0, 0);
  return {
    finding_id: deterministicId('finding', seq),
    tenant: 't-test',
    detector: 'volume-spike',
    entity_type: 'actor',
    entity: 'usr_k1_testactor000000000000',
    actor: 'usr_k1_testactor000000000000',
    severity: 'critical',
    score: 0.95,
    confidence: 1,
    event_time: t,
    detected_time: t + 100,
    first_observed_time: t + 10,
    title: 'Request volume spike',
    sentence: 'usr_k1_testactor000000000000 made 500 requests in 10 min; its usual is 3 ± 2.',
    observed: 500,
    expected: 3,
    band_low: 0,
    band_high: 15,
    baseline_period: 'test',
    features: { requests: 500 },
    evidence: ['e1'],
    collection: 'docs',
    attack_techniques: ['T1530'],
    ...over,
  };
}

/** One finding per id, the last version of each (re-issued findings carry the latest numbers), in first-seen order. */
export function latestById(findings: Finding[]): Finding[] {
  return [...new Map(findings.map((f) => [f.finding_id, f])).values()];
}
