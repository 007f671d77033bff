// Policy as code: which actions a finding calls for. Pure — `vigil policy test` and the responder
// evaluate the same function, so what the CLI prints is what the responder would do.
import type { ActionModeConfig, PolicyConfig, ResponseConfig, TargetType } from '../config/index.js';
import { type Finding, type Severity, severityRank } from '../model/index.js';

export interface PolicyContext {
  /** The identity's accumulated risk (0–100) with this finding counted. */
  readonly risk: number;
  /** Extra labels of the entity, on top of those configured under response.labels. */
  readonly labels?: readonly string[];
}

export interface MatchedRule {
  readonly name: string;
  /** Why it matched, one short clause per condition. */
  readonly reasons: string[];
}

export interface SkippedRule {
  readonly name: string;
  /** The first condition that did not hold. */
  readonly reason: string;
}

export interface PlannedAction {
  readonly rule: string;
  readonly target: string;
  readonly type: TargetType;
  readonly mode: ActionModeConfig;
  readonly subject: 'actor' | 'entity';
}

export interface PolicyDecision {
  /** A finding opens (or joins) an incident when it reaches incident_min_score or a rule matches. */
  readonly opensIncident: boolean;
  readonly matchedRules: MatchedRule[];
  readonly skippedRules: SkippedRule[];
  /** One per target × subject; when rules disagree on the mode the strongest wins (enforce > approval > dry-run). */
  readonly actions: PlannedAction[];
}

const MODE_STRENGTH: Record<ActionModeConfig, number> = { 'dry-run': 0, approval: 1, enforce: 2 };

/** Sensitivity of a collection: exact name first, then the longest matching `prefix*` key. */
export function sensitivityOf(
  config: Pick<ResponseConfig, 'collections' | 'default_sensitivity'>,
  name: string,
) {
  const exact = config.collections[name];
  if (exact) return exact;
  let best: { len: number; level: Severity } | undefined;
  for (const [key, level] of Object.entries(config.collections)) {
    if (!key.endsWith('*')) continue;
    const prefix = key.slice(0, -1);
    if (name.startsWith(prefix) && (!best || prefix.length > best.len)) best = { len: prefix.length, level };
  }
  return best?.level ?? config.default_sensitivity;
}

/** Labels of the finding's actor and entity (configured) plus the caller's. */
export function entityLabels(
  config: Pick<ResponseConfig, 'labels'>,
  f: Pick<Finding, 'actor' | 'entity'>,
  extra: readonly string[] = [],
): string[] {
  return [...new Set([...(config.labels[f.actor] ?? []), ...(config.labels[f.entity] ?? []), ...extra])];
}

function checkRule(
  config: ResponseConfig,
  rule: PolicyConfig,
  f: Finding,
  ctx: PolicyContext,
): { ok: true; reasons: string[] } | { ok: false; reason: string } {
  const m = rule.match;
  const reasons: string[] = [];
  if (!rule.enabled) return { ok: false, reason: 'disabled' };
  if (m.detectors) {
    if (!m.detectors.includes(f.detector))
      return { ok: false, reason: `detector ${f.detector} not in [${m.detectors.join(', ')}]` };
    reasons.push(`detector ${f.detector}`);
  }
  if (m.entity_types) {
    if (!m.entity_types.includes(f.entity_type))
      return { ok: false, reason: `entity type ${f.entity_type} not in [${m.entity_types.join(', ')}]` };
    reasons.push(`entity type ${f.entity_type}`);
  }
  if (m.min_severity) {
    if (severityRank(f.severity) < severityRank(m.min_severity))
      return { ok: false, reason: `severity ${f.severity} < ${m.min_severity}` };
    reasons.push(`severity ${f.severity} ≥ ${m.min_severity}`);
  }
  if (m.min_score !== undefined) {
    if (f.score < m.min_score) return { ok: false, reason: `score ${f.score} < ${m.min_score}` };
    reasons.push(`score ${f.score} ≥ ${m.min_score}`);
  }
  if (m.min_risk !== undefined) {
    if (ctx.risk < m.min_risk) return { ok: false, reason: `risk ${round(ctx.risk)} < ${m.min_risk}` };
    reasons.push(`risk ${round(ctx.risk)} ≥ ${m.min_risk}`);
  }
  if (m.min_sensitivity) {
    const s = sensitivityOf(config, f.collection);
    if (severityRank(s) < severityRank(m.min_sensitivity))
      return { ok: false, reason: `collection sensitivity ${s} < ${m.min_sensitivity}` };
    reasons.push(`collection ${f.collection || '(none)'} is ${s}`);
  }
  if (m.labels) {
    const have = new Set(entityLabels(config, f, ctx.labels));
    const missing = m.labels.filter((l) => !have.has(l));
    if (missing.length) return { ok: false, reason: `entity lacks label(s) ${missing.join(', ')}` };
    reasons.push(`labels ${m.labels.join(', ')}`);
  }
  if (m.features) {
    for (const [name, min] of Object.entries(m.features)) {
      const v = f.features[name];
      if (v === undefined || v < min)
        return { ok: false, reason: `feature ${name}=${v ?? 'absent'} < ${min}` };
      reasons.push(`${name} ${round(v)} ≥ ${min}`);
    }
  }
  if (reasons.length === 0) reasons.push('matches every finding');
  return { ok: true, reasons };
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}

export function evaluatePolicy(config: ResponseConfig, f: Finding, ctx: PolicyContext): PolicyDecision {
  const matchedRules: MatchedRule[] = [];
  const skippedRules: SkippedRule[] = [];
  const byKey = new Map<string, PlannedAction>();
  for (const rule of config.policies) {
    const r = checkRule(config, rule, f, ctx);
    if (!r.ok) {
      skippedRules.push({ name: rule.name, reason: r.reason });
      continue;
    }
    matchedRules.push({ name: rule.name, reasons: r.reasons });
    for (const a of rule.actions) {
      const target = config.targets[a.target];
      if (!target) continue; // the schema refuses unknown targets; a hand-built config may not
      const key = `${a.target}\u0000${a.subject}`;
      const planned: PlannedAction = {
        rule: rule.name,
        target: a.target,
        type: target.type,
        mode: a.mode,
        subject: a.subject,
      };
      const seen = byKey.get(key);
      if (!seen || MODE_STRENGTH[a.mode] > MODE_STRENGTH[seen.mode]) byKey.set(key, planned);
    }
  }
  return {
    opensIncident: f.score >= config.incident_min_score || matchedRules.length > 0,
    matchedRules,
    skippedRules,
    actions: [...byKey.values()],
  };
}
