// The detector registry: builds the detectors the pipeline enables.
import type { PipelineConfig } from '../src/config/index.js';
import type { AnyDetector } from '../src/detect/index.js';
import { createVolumeSpikeDetector } from './volume-spike/volume-spike.detector.js';

export function createDetectors(pipeline: PipelineConfig): AnyDetector[] {
  const out: AnyDetector[] = [];
  const vs = pipeline.detectors['volume-spike'];
  if (vs.enabled) out.push(createVolumeSpikeDetector(vs));
  return out;
}
