// The risk engine: risk that composes. Per identity (tenant × actor), each finding contributes
// severity weight × score × confidence × the weight of its collection's sensitivity; contributions
// decay exponentially with a half-life and leave the sum once older than the window; findings from
// several detectors within the window corroborate each other (each further distinct detector
// multiplies the sum by 1 + corroboration). So a burst of small findings across detectors adds up,
// a first read of an HR collection weighs more than one of the wiki, and an old finding fades
// (Splunk RBA's idea, on a continuous clock). Crossing the threshold opens an incident; the
// identity's findings within the group window of the last one join that incident rather than
// opening another. Every update says which findings composed the risk and what each contributed.
//
// Pure: time is whatever the caller passes as `now` — the finding's event time, in replays and live
// alike, so a replay composes risk as live operation did. Bounded: at most `maxIdentities`
// identities (least recently updated forgotten first) and per identity the last
// `maxContributions` findings (older ones fold into one decaying remainder).
import type { Sensitivity } from '../config/index.js';
import { deterministicId, type Finding, type Severity } from '../model/index.js';

/** Risk points per unit of score × confidence, by severity. */
export const SEVERITY_WEIGHT: Record<Severity, number> = { low: 10, medium: 20, high: 30, critical: 40 };
/** Risk never exceeds this (a flood of findings cannot bury the decay for days). */
export const MAX_RISK = 100;
/** A contribution decayed below this no longer names a detector for corroboration. */
const NEGLIGIBLE = 0.5;

export type SensitivityOf = (collection: string) => { readonly level: Sensitivity; readonly reason: string };

export interface RiskEngineOptions {
  /** Time for an identity's risk to halve without new findings. */
  readonly halfLifeMs: number;
  /** Risk at which an incident opens. */
  readonly incidentThreshold: number;
  /** Findings of an identity within this time of its incident's last finding join that incident. */
  readonly groupWindowMs: number;
  /** Findings older than this (event time of their latest increase) no longer count. @defaultValue Infinity */
  readonly windowMs?: number;
  /** Each further distinct detector within the window multiplies the sum by 1 + this. @defaultValue 0 */
  readonly corroboration?: number;
  /** Multiplier of a finding's points by its collection's sensitivity. @defaultValue 1 for every level */
  readonly sensitivityWeights?: Readonly<Record<Sensitivity, number>>;
  /** How sensitive a collection is, and why; absent: sensitivity does not weigh in. */
  readonly sensitivityOf?: SensitivityOf;
  /** Identities remembered. @defaultValue 100_000 */
  readonly maxIdentities?: number;
  /** Findings itemised per identity. @defaultValue 16 */
  readonly maxContributions?: number;
}

/** What one finding adds to its identity's risk, as of the update that reports it. */
export interface RiskContribution {
  readonly finding_id: string;
  readonly detector: string;
  readonly collection: string;
  /** The collection's sensitivity and why ('' for a finding without a collection). */
  readonly sensitivity: Sensitivity | '';
  readonly sensitivity_reason: string;
  /** Severity weight × score × confidence × sensitivity weight, when last counted. */
  readonly points: number;
  /** Its points decayed to the update's time. */
  readonly current: number;
  /** Event time it was last counted at (epoch ms). */
  readonly time: number;
}

export interface RiskUpdate {
  /** The identity's risk after the finding. */
  readonly risk: number;
  /** True when this finding opened an incident. */
  readonly opensIncident: boolean;
  /** The incident the finding belongs to (deterministic from its first finding), if any. */
  readonly incidentId: string | undefined;
  /** The findings that compose the risk, largest current share first. */
  readonly contributions: readonly RiskContribution[];
  /** Distinct detectors within the window, and the factor they multiplied the sum by. */
  readonly detectors: number;
  readonly corroboration: number;
  /** One sentence: the risk, the bar, and each finding's share. */
  readonly explanation: string;
}

export interface RiskEngine {
  add(finding: Finding, now: number): RiskUpdate;
  riskOf(tenant: string, actor: string, now: number): number;
  /** Identities with risk state. */
  size(): number;
}

interface Item {
  readonly finding_id: string;
  readonly detector: string;
  readonly collection: string;
  readonly sensitivity: Sensitivity | '';
  readonly sensitivity_reason: string;
  /** Points counted so far (the largest issue of the finding). */
  points: number;
  /** Value at `at`, decayed from then on. */
  value: number;
  at: number;
}

interface IdentityRisk {
  /** Insertion order = age of the latest increase. */
  items: Map<string, Item>;
  /** Contributions of findings no longer itemised, folded together. */
  rest: { value: number; at: number };
  at: number;
  incidentId: string | undefined;
  incidentLast: number;
}

/** Severity weight × score × confidence (before the collection's sensitivity weighs in). */
export function contribution(f: Finding): number {
  return SEVERITY_WEIGHT[f.severity] * f.score * f.confidence;
}

export function createRiskEngine(options: RiskEngineOptions): RiskEngine {
  const max = options.maxIdentities ?? 100_000;
  const maxItems = options.maxContributions ?? 16;
  const window = options.windowMs ?? Number.POSITIVE_INFINITY;
  const corroboration = options.corroboration ?? 0;
  if (!(options.halfLifeMs > 0)) throw new Error('risk engine: halfLifeMs must be positive');
  if (!(window > 0)) throw new Error('risk engine: windowMs must be positive');
  if (!(corroboration >= 0)) throw new Error('risk engine: corroboration must not be negative');
  const identities = new Map<string, IdentityRisk>();
  const keyOf = (tenant: string, actor: string) => `${tenant}\u0000${actor}`;

  // Time running backwards (a late finding) neither decays nor grows a value.
  const decayed = (value: number, at: number, now: number) =>
    value * 2 ** (-Math.max(0, now - at) / options.halfLifeMs);
  const inWindow = (at: number, now: number) => now - at <= window;

  function weigh(f: Finding): Pick<Item, 'sensitivity' | 'sensitivity_reason'> & { weight: number } {
    if (!f.collection || !options.sensitivityOf)
      return { sensitivity: '', sensitivity_reason: '', weight: 1 };
    const s = options.sensitivityOf(f.collection);
    return {
      sensitivity: s.level,
      sensitivity_reason: s.reason,
      weight: options.sensitivityWeights?.[s.level] ?? 1,
    };
  }

  function compose(r: IdentityRisk, now: number) {
    const contributions: RiskContribution[] = [];
    const detectors = new Set<string>();
    let sum = inWindow(r.rest.at, now) ? decayed(r.rest.value, r.rest.at, now) : 0;
    for (const i of r.items.values()) {
      if (!inWindow(i.at, now)) continue;
      const current = decayed(i.value, i.at, now);
      sum += current;
      if (current >= NEGLIGIBLE) detectors.add(i.detector);
      contributions.push({
        finding_id: i.finding_id,
        detector: i.detector,
        collection: i.collection,
        sensitivity: i.sensitivity,
        sensitivity_reason: i.sensitivity_reason,
        points: i.points,
        current,
        time: i.at,
      });
    }
    contributions.sort((a, b) => b.current - a.current);
    const factor = 1 + corroboration * Math.max(0, detectors.size - 1);
    return {
      risk: Math.min(MAX_RISK, sum * factor),
      contributions,
      detectors: detectors.size,
      factor,
      rest: sum - contributions.reduce((s, c) => s + c.current, 0),
    };
  }

  function explain(c: ReturnType<typeof compose>): string {
    const within = Number.isFinite(window) ? ` within ${formatSpan(window)}` : '';
    const parts = c.contributions
      .filter((x) => x.current >= 0.05)
      .map((x) => {
        const where = x.collection
          ? ` on ${x.collection} (${x.sensitivity ? `${x.sensitivity} sensitivity: ${x.sensitivity_reason}` : 'sensitivity not weighed'})`
          : '';
        return `${x.detector}${where} +${x.current.toFixed(1)}`;
      });
    if (c.rest >= 0.05) parts.push(`earlier findings +${c.rest.toFixed(1)}`);
    const across =
      c.detectors > 1 && c.factor > 1
        ? `, ${c.detectors} detectors corroborating (×${c.factor.toFixed(2)})`
        : '';
    return (
      `Risk ${c.risk.toFixed(1)} of ${MAX_RISK} (incident at ${options.incidentThreshold}) from ` +
      `${c.contributions.length} finding${c.contributions.length === 1 ? '' : 's'}${within}${across}: ${parts.join('; ')}.`
    );
  }

  return {
    add(f, now) {
      const key = keyOf(f.tenant, f.actor);
      let r = identities.get(key);
      if (r) identities.delete(key);
      else
        r = {
          items: new Map(),
          rest: { value: 0, at: now },
          at: now,
          incidentId: undefined,
          incidentLast: 0,
        };
      identities.set(key, r);
      if (identities.size > max) identities.delete(identities.keys().next().value!);

      // A finding re-issued under its id with bigger numbers adds only its increase.
      const w = weigh(f);
      const points = contribution(f) * w.weight;
      const item = r.items.get(f.finding_id);
      if (item) {
        if (points > item.points) {
          item.value = decayed(item.value, item.at, now) + (points - item.points);
          item.at = Math.max(item.at, now);
          item.points = points;
          r.items.delete(f.finding_id);
          r.items.set(f.finding_id, item);
        }
      } else {
        r.items.set(f.finding_id, {
          finding_id: f.finding_id,
          detector: f.detector,
          collection: f.collection,
          sensitivity: w.sensitivity,
          sensitivity_reason: w.sensitivity_reason,
          points,
          value: points,
          at: now,
        });
        if (r.items.size > maxItems) {
          const oldest = r.items.values().next().value!;
          r.items.delete(oldest.finding_id);
          const at = Math.max(r.rest.at, oldest.at);
          r.rest = { value: decayed(r.rest.value, r.rest.at, at) + decayed(oldest.value, oldest.at, at), at };
        }
      }
      r.at = Math.max(r.at, now);
      const c = compose(r, now);
      const base = {
        risk: c.risk,
        contributions: c.contributions,
        detectors: c.detectors,
        corroboration: c.factor,
      };

      if (r.incidentId !== undefined && now - r.incidentLast <= options.groupWindowMs) {
        r.incidentLast = Math.max(r.incidentLast, now);
        return { ...base, opensIncident: false, incidentId: r.incidentId, explanation: explain(c) };
      }
      if (c.risk >= options.incidentThreshold) {
        r.incidentId = deterministicId('incident', f.tenant, f.actor, f.finding_id);
        r.incidentLast = now;
        return { ...base, opensIncident: true, incidentId: r.incidentId, explanation: explain(c) };
      }
      r.incidentId = undefined;
      return { ...base, opensIncident: false, incidentId: undefined, explanation: explain(c) };
    },
    riskOf(tenant, actor, now) {
      const r = identities.get(keyOf(tenant, actor));
      return r ? compose(r, now).risk : 0;
    },
    size: () => identities.size,
  };
}

function formatSpan(ms: number): string {
  const h = ms / 3_600_000;
  if (h >= 24 && Number.isInteger(h / 24)) return `${h / 24} d`;
  if (h >= 1 && Number.isInteger(h)) return `${h} h`;
  return `${Math.round(ms / 60_000)} min`;
}
