// volume-spike's contract: what the pipeline schema and the registry know of it.
import { defineDetector } from '../../src/detect/contract.js';
import { volumeSpikeParamsSchema } from './volume-spike.params.js';
import { createVolumeSpikeDetector } from './volume-spike.detector.js';

export const volumeSpike = defineDetector({
  name: 'volume-spike',
  params: volumeSpikeParamsSchema,
  create: (params) => [createVolumeSpikeDetector(params)],
});
