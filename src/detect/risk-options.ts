// The risk engine's options from a pipeline: the response section's thresholds and composition,
// and how sensitive a collection is — labels from `response.collections` (first) and the
// new-collection detector's `collections`, then its name patterns, then the response default — so
// the responder and the detection bench weigh a collection the same way the detectors explain it.
import { sensitivityJudge } from '../../detectors/shared/sensitivity.js';
import type { PipelineConfig, Sensitivity } from '../config/index.js';
import type { RiskEngineOptions } from './risk.js';

export function riskEngineOptions(pipeline: PipelineConfig): RiskEngineOptions {
  const rc = pipeline.response;
  const nc = pipeline.detectors['new-collection'];
  const collections: Record<string, { sensitivity: Sensitivity }> = { ...nc.collections };
  for (const [name, level] of Object.entries(rc.collections)) collections[name] = { sensitivity: level };
  return {
    halfLifeMs: rc.risk_half_life,
    incidentThreshold: rc.incident_min_risk,
    groupWindowMs: rc.incident_group_window,
    windowMs: rc.risk.window,
    corroboration: rc.risk.corroboration,
    sensitivityWeights: rc.risk.sensitivity_weights,
    sensitivityOf: sensitivityJudge({
      collections,
      sensitivity_patterns: nc.sensitivity_patterns,
      default_sensitivity: rc.default_sensitivity,
    }),
  };
}
