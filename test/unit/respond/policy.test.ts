// Policy as code: validation at load (errors name the path) and the pure evaluation of rules.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPipeline, responseSchema } from '../../../src/config/index.js';
import { entityLabels, evaluatePolicy, sensitivityOf } from '../../../src/respond/policy.js';
import { makeFinding } from '../../helpers/factories.js';

const ACTOR = 'usr_k1_attacker0000000000000';
const KEY = 'key_k1_credential00000000000';

const config = responseSchema.parse({
  incident_min_score: 0.7,
  collections: { 'hr-*': 'critical', 'hr-public': 'low', docs: 'medium' },
  default_sensitivity: 'low',
  labels: { [ACTOR]: ['team=contractors'] },
  targets: {
    pg: { type: 'postgres' },
    slack: { type: 'slack' },
    pc: { type: 'pinecone' },
  },
  policies: [
    {
      name: 'contain-sensitive-extraction',
      match: {
        detectors: ['volume-spike', 'bulk-extraction'],
        min_severity: 'high',
        min_sensitivity: 'high',
      },
      actions: [{ target: 'pg' }, { target: 'slack' }],
    },
    {
      name: 'contractors-need-approval',
      match: { labels: ['team=contractors'], min_score: 0.5 },
      actions: [{ target: 'pg', mode: 'approval' }],
    },
    {
      name: 'risky-identities-dry-run',
      match: { min_risk: 50 },
      actions: [{ target: 'pc', mode: 'dry-run', subject: 'entity' }],
    },
    {
      name: 'exfil-features',
      match: { features: { vectors: 100 }, entity_types: ['credential'] },
      actions: [{ target: 'pc', subject: 'entity' }],
    },
    { name: 'off', enabled: false, actions: [{ target: 'slack' }] },
  ],
});

describe('evaluatePolicy', () => {
  it('fires the rules whose every condition holds and says why', () => {
    const f = makeFinding({
      actor: ACTOR,
      entity: ACTOR,
      detector: 'volume-spike',
      severity: 'critical',
      collection: 'hr-payroll',
    });
    const d = evaluatePolicy(config, f, { risk: 20 });
    expect(d.matchedRules.map((r) => r.name)).toEqual([
      'contain-sensitive-extraction',
      'contractors-need-approval',
    ]);
    expect(d.matchedRules[0]!.reasons).toEqual([
      'detector volume-spike',
      'severity critical ≥ high',
      'collection hr-payroll is critical',
    ]);
    expect(d.skippedRules).toEqual([
      { name: 'risky-identities-dry-run', reason: 'risk 20 < 50' },
      { name: 'exfil-features', reason: 'entity type actor not in [credential]' },
      { name: 'off', reason: 'disabled' },
    ]);
  });

  it('keeps one action per target and subject, the strongest mode winning', () => {
    const f = makeFinding({ actor: ACTOR, entity: ACTOR, severity: 'critical', collection: 'hr-payroll' });
    const d = evaluatePolicy(config, f, { risk: 20 });
    expect(d.actions).toEqual([
      {
        rule: 'contain-sensitive-extraction',
        target: 'pg',
        type: 'postgres',
        mode: 'enforce',
        subject: 'actor',
      },
      {
        rule: 'contain-sensitive-extraction',
        target: 'slack',
        type: 'slack',
        mode: 'enforce',
        subject: 'actor',
      },
    ]);
  });

  it('matches collection sensitivity by exact name before the longest prefix', () => {
    expect(sensitivityOf(config, 'hr-public')).toBe('low');
    expect(sensitivityOf(config, 'hr-payroll')).toBe('critical');
    expect(sensitivityOf(config, 'docs')).toBe('medium');
    expect(sensitivityOf(config, 'elsewhere')).toBe('low');
    const f = makeFinding({ severity: 'critical', collection: 'hr-public' });
    expect(evaluatePolicy(config, f, { risk: 0 }).skippedRules[0]).toEqual({
      name: 'contain-sensitive-extraction',
      reason: 'collection sensitivity low < high',
    });
  });

  it('uses configured and caller labels of the actor and the entity', () => {
    expect(entityLabels(config, { actor: ACTOR, entity: KEY }, ['on-call'])).toEqual([
      'team=contractors',
      'on-call',
    ]);
    const other = makeFinding({ score: 0.6, severity: 'low' });
    expect(evaluatePolicy(config, other, { risk: 0 }).matchedRules).toEqual([]);
    expect(
      evaluatePolicy(config, other, { risk: 0, labels: ['team=contractors'] }).matchedRules.map(
        (r) => r.name,
      ),
    ).toEqual(['contractors-need-approval']);
  });

  it('matches risk, features and entity types; the subject can be the entity', () => {
    const f = makeFinding({
      entity_type: 'credential',
      entity: KEY,
      severity: 'low',
      features: { vectors: 250 },
    });
    const d = evaluatePolicy(config, f, { risk: 75 });
    expect(d.matchedRules.map((r) => r.name)).toEqual(['risky-identities-dry-run', 'exfil-features']);
    expect(d.actions).toEqual([
      { rule: 'exfil-features', target: 'pc', type: 'pinecone', mode: 'enforce', subject: 'entity' },
    ]);
  });

  it('opens an incident at incident_min_score, or below it when a rule matches', () => {
    expect(
      evaluatePolicy(config, makeFinding({ score: 0.7, severity: 'low' }), { risk: 0 }).opensIncident,
    ).toBe(true);
    expect(
      evaluatePolicy(config, makeFinding({ score: 0.3, severity: 'low' }), { risk: 0 }).opensIncident,
    ).toBe(false);
    expect(
      evaluatePolicy(config, makeFinding({ score: 0.3, severity: 'low' }), { risk: 60 }).opensIncident,
    ).toBe(true);
  });

  it('with no policies keeps the old behaviour: incident_min_score alone', () => {
    const bare = responseSchema.parse({});
    const d = evaluatePolicy(bare, makeFinding({ score: 0.95 }), { risk: 90 });
    expect(d).toEqual({ opensIncident: true, matchedRules: [], skippedRules: [], actions: [] });
  });
});

describe('response policy validation', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-policy-'));
  const load = (yaml: string) => {
    const file = path.join(dir, `p-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, `version: 1\nresponse:\n${yaml}`);
    return () => loadPipeline(file);
  };

  it('names the path of an unknown target', () => {
    const run = load(
      '  targets:\n    pg: {type: postgres}\n  policies:\n    - name: a\n      actions: [{target: pgg}]\n',
    );
    expect(run).toThrow(/response\.policies\.0\.actions\.0\.target: unknown target "pgg" \(known: pg\)/);
  });

  it('names the path of a bad mode, severity, and a duplicate rule name', () => {
    expect(
      load(
        '  targets:\n    s: {type: slack}\n  policies:\n    - name: a\n      actions: [{target: s, mode: yolo}]\n',
      ),
    ).toThrow(/response\.policies\.0\.actions\.0\.mode/);
    expect(
      load('  policies:\n    - name: a\n      match: {min_severity: severe}\n      actions: [{target: s}]\n'),
    ).toThrow(/response\.policies\.0\.match\.min_severity/);
    expect(
      load(
        '  targets:\n    s: {type: slack}\n  policies:\n    - {name: a, actions: [{target: s}]}\n    - {name: a, actions: [{target: s}]}\n',
      ),
    ).toThrow(/response\.policies\.1\.name: duplicate policy name "a"/);
  });

  it('names the path of a bad target (unknown type, env name, target name)', () => {
    expect(load('  targets:\n    x: {type: oracle}\n')).toThrow(/response\.targets\.x\.type/);
    expect(load('  targets:\n    x: {type: postgres, url_env: "not an env"}\n')).toThrow(
      /response\.targets\.x\.url_env/,
    );
    expect(load('  targets:\n    "a:b": {type: slack}\n')).toThrow(/response\.targets\.a:b/);
    expect(load('  targets:\n    q: {type: qdrant-cloud}\n')).toThrow(/response\.targets\.q\.account_id/);
  });

  it('loads the example containment pipeline and the default one', () => {
    const example = loadPipeline(
      path.resolve(import.meta.dirname, '../../../pipelines/containment.example.yaml'),
    );
    expect(example.response.policies.length).toBeGreaterThan(0);
    const def = loadPipeline(path.resolve(import.meta.dirname, '../../../pipelines/default.yaml'));
    expect(def.response.actions).toHaveLength(1);
    expect(def.response.guardrails.never_contain.labels).toEqual(['break-glass']);
  });
});
