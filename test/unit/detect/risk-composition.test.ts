// Risk that composes (issue 14, item 1): findings of one identity from several detectors within
// the window add up and corroborate, the collection's sensitivity weighs in, an incident opens when
// the composed risk crosses the bar, and every update says which findings composed it.
import { describe, expect, it } from 'vitest';
import { pipelineSchema } from '../../../src/config/pipeline.js';
import { createRiskEngine, MAX_RISK, type RiskEngineOptions } from '../../../src/detect/risk.js';
import { riskEngineOptions } from '../../../src/detect/risk-options.js';
import { createIncidentBook } from '../../../src/respond/incidents.js';
import { testTime } from '../../helpers/clock.js';
import { makeFinding } from '../../helpers/factories.js';

const HOUR = 3_600_000;
const ACTOR = 'usr_k1_composeactor000000000';
const pipeline = pipelineSchema.parse({ version: 1 });
const DEFAULTS = riskEngineOptions(pipeline);

/** A medium finding worth 20 × 0.6 × 1 = 12 points before sensitivity: under the bar (28) alone. */
const medium = (detector: string, time: number, collection = 'team_wiki') =>
  makeFinding({
    actor: ACTOR,
    entity: ACTOR,
    detector,
    severity: 'medium',
    score: 0.6,
    confidence: 1,
    collection,
    event_time: time,
  });

describe('risk composition: several findings, several detectors, one window', () => {
  it('opens an incident for two detectors within the window where neither alone reaches the bar', () => {
    const risk = createRiskEngine(DEFAULTS);
    const t = testTime(2, 10);
    const a = risk.add(medium('new-collection', t), t);
    expect(a.risk).toBeCloseTo(12, 6);
    expect(a.opensIncident).toBe(false);
    const b = risk.add(medium('access-breadth', t + 2 * HOUR), t + 2 * HOUR);
    // (12 decayed over 2 h at a 6 h half-life + 12) × 1.5 for the second detector.
    expect(b.risk).toBeCloseTo((12 * 2 ** (-2 / 6) + 12) * 1.5, 6);
    expect(b.detectors).toBe(2);
    expect(b.opensIncident).toBe(true);
  });

  it('does not compose findings further apart than the window', () => {
    const risk = createRiskEngine({ ...DEFAULTS, halfLifeMs: 1_000 * HOUR });
    const t = testTime(2, 10);
    risk.add(medium('new-collection', t), t);
    const later = t + pipeline.response.risk.window + HOUR;
    const b = risk.add(medium('access-breadth', later), later);
    expect(b.risk).toBeCloseTo(12, 6);
    expect(b.detectors).toBe(1);
    expect(b.contributions.map((c) => c.detector)).toEqual(['access-breadth']);
    expect(b.opensIncident).toBe(false);
  });

  it('composes on event time: the same findings replayed a month later give the same risk', () => {
    const run = (offset: number) => {
      const risk = createRiskEngine(DEFAULTS);
      const t = testTime(0, 9) + offset;
      risk.add(medium('new-collection', t), t);
      return risk.add(medium('off-hours', t + HOUR), t + HOUR).risk;
    };
    expect(run(30 * 24 * HOUR)).toBeCloseTo(run(0), 9);
  });

  it('never exceeds MAX_RISK however many detectors agree', () => {
    const risk = createRiskEngine(DEFAULTS);
    const t = testTime(1, 10);
    let last = 0;
    for (const d of ['a', 'b', 'c', 'd', 'e', 'f'])
      last = risk.add(makeFinding({ actor: ACTOR, detector: d, event_time: t }), t).risk;
    expect(last).toBe(MAX_RISK);
  });
});

describe('risk composition: the collection sensitivity weighs in', () => {
  it('weighs a finding on an HR collection (name pattern) above the same finding on a wiki', () => {
    const t = testTime(3, 11);
    const wiki = createRiskEngine(DEFAULTS).add(medium('new-collection', t, 'team_wiki'), t);
    const hr = createRiskEngine(DEFAULTS).add(medium('new-collection', t, 'hr_docs'), t);
    expect(wiki.contributions[0]).toMatchObject({ sensitivity: 'low', points: 12 });
    expect(hr.contributions[0]).toMatchObject({ sensitivity: 'high', points: 12 * 1.5 });
    expect(hr.contributions[0]!.sensitivity_reason).toMatch(/sensitivity pattern "hr"/);
    expect(hr.risk).toBeGreaterThan(wiki.risk);
  });

  it('takes a label of response.collections before a name pattern, and its configured weight', () => {
    const labelled = pipelineSchema.parse({
      version: 1,
      response: { collections: { hr_docs: 'critical' }, risk: { sensitivity_weights: { critical: 3 } } },
    });
    const t = testTime(3, 11);
    const r = createRiskEngine(riskEngineOptions(labelled)).add(medium('new-collection', t, 'hr_docs'), t);
    expect(r.contributions[0]).toMatchObject({
      sensitivity: 'critical',
      points: 36,
      sensitivity_reason: 'labelled in the configuration',
    });
    expect(r.opensIncident).toBe(true);
  });

  it('leaves a finding without a collection at its plain points', () => {
    const t = testTime(3, 11);
    const r = createRiskEngine(DEFAULTS).add(medium('auth-failures', t, ''), t);
    expect(r.contributions[0]).toMatchObject({ sensitivity: '', points: 12 });
  });
});

describe('risk composition: the explanation lists each contribution', () => {
  const t = testTime(4, 14);
  const risk = createRiskEngine(DEFAULTS);
  const first = medium('new-collection', t, 'legal_contracts');
  const second = medium('credential-sharing', t + 30 * 60_000, '');
  risk.add(first, t);
  const r = risk.add(second, t + 30 * 60_000);

  it('itemises the findings, largest first, and they compose the risk exactly', () => {
    expect(r.contributions.map((c) => c.finding_id)).toEqual([first.finding_id, second.finding_id]);
    const sum = r.contributions.reduce((s, c) => s + c.current, 0);
    expect(r.risk).toBeCloseTo(sum * r.corroboration, 9);
    expect(r.corroboration).toBe(1.5);
  });

  it('says it in one sentence: the risk, the bar, every detector, collection, sensitivity and share', () => {
    expect(r.explanation).toMatch(
      /^Risk \d+\.\d of 100 \(incident at 28\) from 2 findings within 1 d, 2 detectors corroborating \(×1\.50\): /,
    );
    expect(r.explanation).toMatch(
      /new-collection on legal_contracts \(high sensitivity: its name matches the sensitivity pattern "legal"\) \+\d+\.\d/,
    );
    expect(r.explanation).toMatch(/credential-sharing \+12\.0/);
  });

  it('goes into the incident: its risk and summary', () => {
    const book = createIncidentBook(HOUR);
    const { incident } = book.upsert(second, t + HOUR, r);
    expect(incident.risk).toBe(r.risk);
    expect(incident.summary).toBe(`${second.sentence} ${r.explanation}`);
  });
});

describe('risk composition: configuration fails closed', () => {
  it('refuses an unknown key under response.risk, naming it', () => {
    const r = pipelineSchema.safeParse({ version: 1, response: { risk: { windw: '2h' } } });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toMatch(/windw/);
  });

  it('refuses an unknown sensitivity level among the weights', () => {
    const r = pipelineSchema.safeParse({
      version: 1,
      response: { risk: { sensitivity_weights: { secret: 2 } } },
    });
    expect(r.success).toBe(false);
  });

  it('refuses a non-positive window in the engine', () => {
    const options: RiskEngineOptions = { ...DEFAULTS, windowMs: 0 };
    expect(() => createRiskEngine(options)).toThrow(/windowMs/);
  });
});
