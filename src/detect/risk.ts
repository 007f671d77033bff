// The risk engine: per identity (tenant × actor), risk accumulates from findings — severity weight
// × score × confidence — and decays exponentially with a configurable half-life, so a burst of
// small findings adds up and an old one fades (Splunk RBA's idea, on a continuous clock). Crossing
// the threshold opens an incident; the identity's findings within the group window of the last
// one join that incident rather than opening another.
//
// Pure: time is whatever the caller passes as `now` (event time in replays, the wall clock live).
// Bounded: at most `maxIdentities` identities (least recently updated forgotten first), and per
// identity the contributions of its last few finding ids (so a finding re-issued under the same id
// with bigger numbers adds only its increase).
import { deterministicId, type Finding, type Severity } from '../model/index.js';

/** Risk points per unit of score × confidence, by severity. */
export const SEVERITY_WEIGHT: Record<Severity, number> = { low: 10, medium: 20, high: 30, critical: 40 };
/** Risk never exceeds this (a flood of findings cannot bury the decay for days). */
export const MAX_RISK = 100;
const RECENT_FINDINGS = 8;

export interface RiskEngineOptions {
  /** Time for an identity's risk to halve without new findings. */
  readonly halfLifeMs: number;
  /** Risk at which an incident opens. */
  readonly incidentThreshold: number;
  /** Findings of an identity within this time of its incident's last finding join that incident. */
  readonly groupWindowMs: number;
  /** Identities remembered. @defaultValue 100_000 */
  readonly maxIdentities?: number;
}

export interface RiskUpdate {
  /** The identity's risk after the finding. */
  readonly risk: number;
  /** True when this finding opened an incident. */
  readonly opensIncident: boolean;
  /** The incident the finding belongs to (deterministic from its first finding), if any. */
  readonly incidentId: string | undefined;
}

export interface RiskEngine {
  add(finding: Finding, now: number): RiskUpdate;
  riskOf(tenant: string, actor: string, now: number): number;
  /** Identities with risk state. */
  size(): number;
}

interface IdentityRisk {
  risk: number;
  at: number;
  incidentId: string | undefined;
  incidentLast: number;
  /** finding id → contribution already counted (insertion order = age). */
  recent: Map<string, number>;
}

export function contribution(f: Finding): number {
  return SEVERITY_WEIGHT[f.severity] * f.score * f.confidence;
}

export function createRiskEngine(options: RiskEngineOptions): RiskEngine {
  const max = options.maxIdentities ?? 100_000;
  if (!(options.halfLifeMs > 0)) throw new Error('risk engine: halfLifeMs must be positive');
  const identities = new Map<string, IdentityRisk>();
  const keyOf = (tenant: string, actor: string) => `${tenant}\u0000${actor}`;

  function decayed(r: IdentityRisk, now: number): number {
    // Time running backwards (a late finding) neither decays nor grows the risk.
    const dt = Math.max(0, now - r.at);
    return r.risk * 2 ** (-dt / options.halfLifeMs);
  }

  return {
    add(f, now) {
      const key = keyOf(f.tenant, f.actor);
      let r = identities.get(key);
      if (r) identities.delete(key);
      else r = { risk: 0, at: now, incidentId: undefined, incidentLast: 0, recent: new Map() };
      identities.set(key, r);
      if (identities.size > max) identities.delete(identities.keys().next().value!);

      const c = contribution(f);
      const counted = r.recent.get(f.finding_id);
      const delta = counted === undefined ? c : Math.max(0, c - counted);
      r.recent.delete(f.finding_id);
      r.recent.set(f.finding_id, Math.max(c, counted ?? 0));
      if (r.recent.size > RECENT_FINDINGS) r.recent.delete(r.recent.keys().next().value!);

      r.risk = Math.min(MAX_RISK, decayed(r, now) + delta);
      r.at = Math.max(r.at, now);

      if (r.incidentId !== undefined && now - r.incidentLast <= options.groupWindowMs) {
        r.incidentLast = Math.max(r.incidentLast, now);
        return { risk: r.risk, opensIncident: false, incidentId: r.incidentId };
      }
      if (r.risk >= options.incidentThreshold) {
        r.incidentId = deterministicId('incident', f.tenant, f.actor, f.finding_id);
        r.incidentLast = now;
        return { risk: r.risk, opensIncident: true, incidentId: r.incidentId };
      }
      r.incidentId = undefined;
      return { risk: r.risk, opensIncident: false, incidentId: undefined };
    },
    riskOf(tenant, actor, now) {
      const r = identities.get(keyOf(tenant, actor));
      return r ? decayed(r, now) : 0;
    },
    size: () => identities.size,
  };
}
