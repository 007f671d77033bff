// The risk engine's options from a pipeline: the response section's thresholds and composition,
// and how sensitive a collection is — labels from `response.collections` (first) and the
// new-collection detector's `collections`, then its name patterns, then the response default — so
// the responder and the detection bench weigh a collection the same way the detectors explain it.
import { sensitivityJudge } from '../../detectors/shared/sensitivity.js';
import type { PipelineConfig, Sensitivity } from '../config/index.js';
import { sensitivityExplainer } from './explain-sensitivity.js';
import type { RiskEngineOptions, SensitivityOf } from './risk.js';
import type { DetectorRuntimeOptions } from './runtime.js';

/**
 * How sensitive a collection is, and why, for the whole pipeline: `response.collections` labels
 * first, then new-collection's labels and name patterns, then `response.default_sensitivity`. The
 * risk engine weighs findings by it and every finding's explanation states it
 * (src/detect/explain-sensitivity.ts), so what an analyst reads is what the responder weighed.
 */
export function collectionSensitivity(pipeline: PipelineConfig): SensitivityOf {
  const rc = pipeline.response;
  const nc = pipeline.detectors['new-collection'];
  const collections: Record<string, { sensitivity: Sensitivity }> = { ...nc.collections };
  for (const [name, level] of Object.entries(rc.collections)) collections[name] = { sensitivity: level };
  return sensitivityJudge({
    collections,
    sensitivity_patterns: nc.sensitivity_patterns,
    default_sensitivity: rc.default_sensitivity,
  });
}

export function riskEngineOptions(pipeline: PipelineConfig): RiskEngineOptions {
  const rc = pipeline.response;
  return {
    halfLifeMs: rc.risk_half_life,
    incidentThreshold: rc.incident_min_risk,
    groupWindowMs: rc.incident_group_window,
    windowMs: rc.risk.window,
    corroboration: rc.risk.corroboration,
    sensitivityWeights: rc.risk.sensitivity_weights,
    sensitivityOf: collectionSensitivity(pipeline),
  };
}

/** The detector runtime's options from a pipeline: hot-entity bound and finding explanations. */
export function detectorRuntimeOptions(pipeline: PipelineConfig): DetectorRuntimeOptions {
  return {
    maxHotEntities: pipeline.detection.max_hot_entities,
    explain: sensitivityExplainer(collectionSensitivity(pipeline)),
  };
}
