// ECS documents and Splunk HEC event objects.
import { describe, expect, it } from 'vitest';
import { toEcs, toSplunkHec } from '../../../src/export/index.js';
import { makeEvent, makeFinding } from '../../helpers/factories.js';
import { makeAction, makeIncident, oneOfEach } from '../../helpers/export-records.js';

/** The event.category → allowed event.type pairs ECS documents (for the categories vigil uses). */
const ECS_ALLOWED_TYPES: Record<string, string[]> = {
  api: [
    'access',
    'admin',
    'allowed',
    'change',
    'creation',
    'deletion',
    'denied',
    'end',
    'info',
    'start',
    'user',
    'error',
  ],
  authentication: ['start', 'end', 'info', 'allowed', 'denied', 'error'],
  database: ['access', 'change', 'info', 'error', 'creation', 'deletion', 'allowed', 'denied', 'admin'],
  iam: ['admin', 'change', 'creation', 'deletion', 'group', 'info', 'user'],
  intrusion_detection: ['allowed', 'denied', 'info'],
};

describe('toEcs', () => {
  it('fills event.kind/category/type/action/outcome with ECS values for every kind', () => {
    for (const r of oneOfEach()) {
      const d = toEcs(r);
      expect(['alert', 'event']).toContain(d.event.kind);
      expect(['success', 'failure', 'unknown']).toContain(d.event.outcome);
      expect(d.event.action).toBeTruthy();
      expect(Date.parse(d['@timestamp'])).not.toBeNaN();
      for (const c of d.event.category) {
        expect(Object.keys(ECS_ALLOWED_TYPES)).toContain(c);
        // At least one type must be allowed for each category.
        expect(d.event.type.some((t) => ECS_ALLOWED_TYPES[c]!.includes(t))).toBe(true);
      }
    }
  });

  it('makes findings alerts with a risk score, rule and ATT&CK technique', () => {
    const d = toEcs({ kind: 'finding', value: makeFinding({ score: 0.934, attack_techniques: ['T1530'] }) });
    expect(d.event).toMatchObject({ kind: 'alert', risk_score: 93.4, action: 'volume-spike' });
    expect(d).toMatchObject({
      user: { id: 'usr_k1_testactor000000000000' },
      rule: { id: 'volume-spike', name: 'volume-spike', ruleset: 'vigil' },
      threat: { framework: 'MITRE ATT&CK', technique: { id: ['T1530'] } },
    });
    expect(toEcs({ kind: 'incident', value: makeIncident() }).event.kind).toBe('alert');
  });

  it('makes access events, with the address token in source.address (source.ip is typed ip)', () => {
    const d = toEcs({
      kind: 'event',
      value: makeEvent({ outcome: 'denied', operation: 'delete', src_ip: 'ip_k1_ab', src_net: 'net_k1_cd' }),
    });
    expect(d.event).toMatchObject({
      kind: 'event',
      category: ['api', 'database'],
      type: ['deletion', 'denied'],
      outcome: 'failure',
      action: 'delete',
    });
    expect(d.source).toEqual({ address: 'ip_k1_ab', subnet: 'net_k1_cd' });
    expect(toEcs({ kind: 'event', value: makeEvent({ operation: 'auth' }) }).event.category).toContain(
      'authentication',
    );
  });

  it('makes containment actions iam changes on the contained user', () => {
    const d = toEcs({ kind: 'action', value: makeAction({ kind: 'revoke' }), actor: 'usr_k1_q' });
    expect(d.event).toMatchObject({
      kind: 'event',
      category: ['iam'],
      type: ['deletion', 'user'],
      outcome: 'success',
    });
    expect(d.user).toEqual({ id: 'usr_k1_q', target: { id: 'usr_k1_q' } });
  });

  it('strips escape sequences from values', () => {
    const d = toEcs({ kind: 'finding', value: makeFinding({ sentence: 'x\u001b[1;31my' }) });
    expect(d.message).toBe('xy');
  });
});

describe('toSplunkHec', () => {
  it('has the HEC envelope: epoch-second time, host, source, sourcetype, event, string fields', () => {
    for (const r of oneOfEach()) {
      const e = toSplunkHec(r, { host: 'h1', index: 'security' });
      expect(Object.keys(e).sort()).toEqual([
        'event',
        'fields',
        'host',
        'index',
        'source',
        'sourcetype',
        'time',
      ]);
      expect(e.sourcetype).toBe(`vigil:${r.kind}`);
      expect(e.host).toBe('h1');
      expect(e.time).toBeLessThan(1e11);
      for (const v of Object.values(e.fields))
        expect(typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string'))).toBe(
          true,
        );
    }
  });

  it('omits index when none is configured (the token default applies) and keeps millisecond time', () => {
    const f = makeFinding({ detected_time: 1_790_000_000_123 });
    const e = toSplunkHec({ kind: 'finding', value: f });
    expect('index' in e).toBe(false);
    expect(e.time).toBe(1_790_000_000.123);
    expect(e.fields).toMatchObject({
      tenant: 't-test',
      severity: 'critical',
      detector: 'volume-spike',
      attack_technique: ['T1530'],
    });
    expect(e.event).toMatchObject({ kind: 'finding', finding_id: f.finding_id });
  });
});
