// The risk engine: per-identity risk from findings with exponential decay, incidents opened at a
// threshold and grouped within a window, bounded memory.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { contribution, createRiskEngine, MAX_RISK, SEVERITY_WEIGHT } from '../../../src/detect/risk.js';
import { deterministicId } from '../../../src/model/index.js';
import { makeFinding } from '../../helpers/factories.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 2, 10);
const ACTOR = 'usr_k1_testactor000000000000';
const OPTIONS = { halfLifeMs: 24 * HOUR, incidentThreshold: 50, groupWindowMs: HOUR };

describe('risk engine: accumulation and decay', () => {
  it('adds severity weight × score × confidence per finding', () => {
    const risk = createRiskEngine(OPTIONS);
    const f = makeFinding({ severity: 'high', score: 0.8, confidence: 0.5 });
    expect(contribution(f)).toBeCloseTo(SEVERITY_WEIGHT.high * 0.8 * 0.5, 10);
    expect(risk.add(f, T0).risk).toBeCloseTo(12, 10);
    expect(risk.riskOf('t-test', ACTOR, T0)).toBeCloseTo(12, 10);
  });

  it('halves after one half-life and keeps decaying', () => {
    const risk = createRiskEngine(OPTIONS);
    risk.add(makeFinding({ severity: 'critical', score: 1, confidence: 1 }), T0);
    expect(risk.riskOf('t-test', ACTOR, T0 + 24 * HOUR)).toBeCloseTo(20, 10);
    expect(risk.riskOf('t-test', ACTOR, T0 + 48 * HOUR)).toBeCloseTo(10, 10);
  });

  it('adds a finding onto the decayed risk', () => {
    const risk = createRiskEngine(OPTIONS);
    risk.add(makeFinding({ severity: 'critical', score: 1, confidence: 1 }), T0);
    const r = risk.add(makeFinding({ severity: 'low', score: 0.5, confidence: 1 }), T0 + 24 * HOUR);
    expect(r.risk).toBeCloseTo(20 + 5, 10);
  });

  it('counts a re-issued finding (same id, bigger numbers) only for its increase', () => {
    const risk = createRiskEngine(OPTIONS);
    const first = makeFinding({ severity: 'medium', score: 0.6, confidence: 1 });
    risk.add(first, T0);
    const grown = { ...first, severity: 'critical' as const, score: 0.95 };
    expect(risk.add(grown, T0).risk).toBeCloseTo(contribution(grown), 10);
    expect(risk.add(grown, T0).risk).toBeCloseTo(contribution(grown), 10);
  });

  it('keeps identities and tenants apart', () => {
    const risk = createRiskEngine(OPTIONS);
    risk.add(makeFinding({ actor: 'a', tenant: 't1' }), T0);
    expect(risk.riskOf('t1', 'b', T0)).toBe(0);
    expect(risk.riskOf('t2', 'a', T0)).toBe(0);
    expect(risk.riskOf('t1', 'a', T0)).toBeGreaterThan(0);
  });

  it('stays within [0, MAX_RISK], never grows with time, and does not decay backwards', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            dt: fc.integer({ min: -HOUR, max: 48 * HOUR }),
            severity: fc.constantFrom('low', 'medium', 'high', 'critical'),
            score: fc.double({ min: 0, max: 1, noNaN: true }),
            confidence: fc.double({ min: 0, max: 1, noNaN: true }),
          }),
          { maxLength: 40 },
        ),
        (steps) => {
          const risk = createRiskEngine(OPTIONS);
          let t = T0;
          for (const s of steps) {
            t += s.dt;
            const r = risk.add(
              makeFinding({ severity: s.severity as 'low', score: s.score, confidence: s.confidence }),
              t,
            );
            expect(r.risk).toBeGreaterThanOrEqual(0);
            expect(r.risk).toBeLessThanOrEqual(MAX_RISK);
            expect(risk.riskOf('t-test', ACTOR, t + HOUR)).toBeLessThanOrEqual(
              risk.riskOf('t-test', ACTOR, t) + 1e-9,
            );
          }
        },
      ),
    );
  });
});

describe('risk engine: incidents', () => {
  it('opens an incident when risk crosses the threshold, not before', () => {
    const risk = createRiskEngine(OPTIONS);
    const a = makeFinding({ severity: 'high', score: 0.9, confidence: 1 });
    const b = makeFinding({ severity: 'high', score: 0.9, confidence: 1 });
    expect(risk.add(a, T0)).toMatchObject({ opensIncident: false, incidentId: undefined });
    const r = risk.add(b, T0 + 10 * 60_000);
    expect(r.opensIncident).toBe(true);
    expect(r.incidentId).toBe(deterministicId('incident', 't-test', ACTOR, b.finding_id));
  });

  it("groups the identity's later findings within the window into the same incident", () => {
    const risk = createRiskEngine(OPTIONS);
    risk.add(makeFinding({ severity: 'critical', score: 1, confidence: 1 }), T0);
    const opened = risk.add(makeFinding({ severity: 'critical', score: 1, confidence: 1 }), T0 + 1);
    const joined = risk.add(makeFinding({ severity: 'low', score: 0.1, confidence: 1 }), T0 + 50 * 60_000);
    const chained = risk.add(makeFinding({ severity: 'low', score: 0.1, confidence: 1 }), T0 + 100 * 60_000);
    expect(opened.opensIncident).toBe(true);
    for (const r of [joined, chained]) {
      expect(r.opensIncident).toBe(false);
      expect(r.incidentId).toBe(opened.incidentId);
    }
  });

  it('opens a new incident after the window has passed and risk crosses again', () => {
    const risk = createRiskEngine(OPTIONS);
    risk.add(makeFinding({ severity: 'critical', score: 1, confidence: 1 }), T0);
    const first = risk.add(makeFinding({ severity: 'critical', score: 1, confidence: 1 }), T0 + 1);
    // Three half-lives later 80 has decayed to 10; a high finding brings it to 40, under 50.
    const later = risk.add(makeFinding({ severity: 'high', score: 1, confidence: 1 }), T0 + 3 * 24 * HOUR);
    expect(first.opensIncident).toBe(true);
    expect(later.risk).toBeCloseTo(40, 6);
    expect(later.opensIncident).toBe(false);
    expect(later.incidentId).toBeUndefined();
    const again = risk.add(
      makeFinding({ severity: 'critical', score: 1, confidence: 1 }),
      T0 + 3 * 24 * HOUR + 1,
    );
    expect(again.opensIncident).toBe(true);
    expect(again.incidentId).not.toBe(first.incidentId);
  });
});

describe('risk engine: bounded memory', () => {
  it('forgets the least recently updated identities beyond maxIdentities', () => {
    const risk = createRiskEngine({ ...OPTIONS, maxIdentities: 100 });
    for (let i = 0; i < 1_000; i++) risk.add(makeFinding({ actor: `usr_${i}` }), T0 + i);
    expect(risk.size()).toBe(100);
    expect(risk.riskOf('t-test', 'usr_0', T0 + 1_000)).toBe(0);
    expect(risk.riskOf('t-test', 'usr_999', T0 + 1_000)).toBeGreaterThan(0);
  });

  it('rejects a non-positive half-life', () => {
    expect(() => createRiskEngine({ ...OPTIONS, halfLifeMs: 0 })).toThrow(/halfLifeMs/);
  });
});
