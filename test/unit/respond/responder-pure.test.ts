// The responder's pure parts: which findings open incidents, and the webhook document.
import { describe, expect, it } from 'vitest';
import { responseSchema } from '../../../src/config/pipeline.js';
import { createTokenizer } from '../../../src/privacy/index.js';
import { createIncidentBook } from '../../../src/respond/incidents.js';
import { type ActionJob, actionJobId, policyJobId } from '../../../src/respond/jobs.js';
import { opensIncident, webhookBody } from '../../../src/respond/responder.js';
import { makeFinding } from '../../helpers/factories.js';

const config = responseSchema.parse({ incident_min_score: 0.7 });
const T0 = Date.UTC(2026, 10, 2, 10, 0, 0);

describe('opensIncident', () => {
  it.each([
    [0.95, true],
    [0.7, true],
    [0.6999, false],
    [0, false],
  ])('score %d → %s', (score, expected) => {
    expect(opensIncident(config, makeFinding({ score }))).toBe(expected);
  });

  it('follows the configured threshold', () => {
    const strict = responseSchema.parse({ incident_min_score: 0.99 });
    expect(opensIncident(strict, makeFinding({ score: 0.95 }))).toBe(false);
  });
});

describe('webhookBody', () => {
  const tok = createTokenizer({ version: 1, secret: Buffer.alloc(32, 7) });
  const actor = tok.token('actor', 't-test', 'alice@example.com', 'user');
  const finding = makeFinding({
    actor,
    entity: actor,
    sentence: `${actor} made 600 requests on hr-docs in 10 min; its usual is 2 ± 1.`,
    evidence: ['e1', 'e2'],
    band_low: 0,
    band_high: 10.5,
  });
  const { incident } = createIncidentBook(3_600_000).upsert(finding, T0);
  const job: ActionJob = {
    job_id: actionJobId(incident.incident_id, 'webhook', 'notify'),
    kind: 'webhook',
    mode: 'enforce',
    action: 'notify',
    incident,
    finding,
    enqueued_time: T0,
  };
  const body = webhookBody(job);

  it('is valid JSON describing the incident and the finding', () => {
    const doc = JSON.parse(body);
    expect(doc.type).toBe('vigil.incident');
    expect(doc.incident).toMatchObject({
      id: incident.incident_id,
      tenant: 't-test',
      actor,
      status: 'open',
      severity: finding.severity,
      // The event time of the finding that opened it, not the clock it was written by.
      opened_time: new Date(finding.event_time).toISOString(),
      finding_ids: [finding.finding_id],
    });
    expect(doc.finding).toMatchObject({
      id: finding.finding_id,
      detector: 'volume-spike',
      score: finding.score,
      band: [0, 10.5],
      evidence: ['e1', 'e2'],
      attack_techniques: ['T1530'],
    });
  });

  it('carries tokens only, never the raw identity', () => {
    expect(body).toContain(actor);
    expect(body).not.toContain('alice');
    expect(body).not.toContain('example.com');
  });

  it('is the same document for the same job (stable across retries)', () => {
    expect(webhookBody({ ...job })).toBe(body);
  });
});

describe('actionJobId', () => {
  it('is deterministic per incident, kind and action name, and has no colon (BullMQ)', () => {
    expect(actionJobId('abc', 'webhook', 'notify')).toBe('abc-webhook.notify');
    expect(actionJobId('abc', 'webhook', 'page')).not.toBe(actionJobId('abc', 'webhook', 'notify'));
    expect(actionJobId('abc', 'webhook', 'notify')).not.toContain(':');
  });

  it('never equals a policy job id, whatever the names (a policy id has no dot)', () => {
    // Action "enforce" vs target "webhook" in enforce mode: by name alone they would collide.
    expect(actionJobId('abc', 'webhook', 'enforce')).not.toBe(policyJobId('abc', 'webhook', 'enforce'));
  });
});
