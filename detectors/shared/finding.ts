// The one way detectors build a Finding: deterministic id, score and confidence clamped to [0,1],
// severity from the score.
import { deterministicId, type Finding } from '../../src/model/index.js';
import { clamp01, severityOf } from './scoring.js';

export type EntityType = 'actor' | 'credential' | 'collection' | 'src_net';

export interface FindingInput {
  /** The detector (folder) name, as analysts see it. */
  readonly detector: string;
  /** The Detector object's name (unique per entity kind); part of the id. */
  readonly scope: string;
  readonly tenant: string;
  readonly entityType: EntityType;
  readonly entity: string;
  readonly actor: string;
  /** Start of the window the finding is about; with scope, tenant and entity it makes the id. */
  readonly windowStart: number;
  readonly score: number;
  readonly confidence: number;
  /** Event time of this issue of the finding. */
  readonly eventTime: number;
  readonly firstObservedTime: number;
  /** Event time of the finding's first issue; @defaultValue eventTime */
  readonly firstFiredTime?: number;
  /** Issues so far, this one included; @defaultValue 1 */
  readonly updateCount?: number;
  readonly now: number;
  readonly title: string;
  readonly sentence: string;
  readonly observed: number;
  readonly expected: number;
  readonly bandLow: number;
  readonly bandHigh: number;
  readonly baselinePeriod: string;
  readonly features: Record<string, number>;
  readonly evidence: readonly string[];
  readonly collection?: string;
  readonly techniques: readonly string[];
}

export function makeFinding(f: FindingInput): Finding {
  const score = clamp01(f.score);
  const features: Record<string, number> = {};
  for (const [k, v] of Object.entries(f.features)) if (Number.isFinite(v)) features[k] = v;
  return {
    finding_id: deterministicId(f.scope, f.tenant, f.entity, f.windowStart),
    tenant: f.tenant,
    detector: f.detector,
    entity_type: f.entityType,
    entity: f.entity,
    actor: f.actor,
    severity: severityOf(score),
    score,
    confidence: clamp01(f.confidence),
    event_time: f.eventTime,
    first_fired_time: f.firstFiredTime ?? f.eventTime,
    update_count: f.updateCount ?? 1,
    detected_time: f.now,
    first_observed_time: f.firstObservedTime,
    title: f.title,
    sentence: f.sentence,
    observed: f.observed,
    expected: f.expected,
    band_low: f.bandLow,
    band_high: f.bandHigh,
    baseline_period: f.baselinePeriod,
    features,
    evidence: [...f.evidence],
    collection: f.collection ?? '',
    attack_techniques: [...f.techniques],
  };
}
