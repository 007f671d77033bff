// access-breadth's contract: what the pipeline schema and the registry know of it.
import { defineDetector } from '../../src/detect/contract.js';
import { accessBreadthParamsSchema } from './access-breadth.params.js';
import { createAccessBreadthDetector } from './access-breadth.detector.js';

export const accessBreadth = defineDetector({
  name: 'access-breadth',
  params: accessBreadthParamsSchema,
  create: (params) => [createAccessBreadthDetector(params)],
});
