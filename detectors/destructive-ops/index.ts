// destructive-ops' contract: what the pipeline schema and the registry know of it.
import { defineDetector } from '../../src/detect/contract.js';
import { destructiveOpsParamsSchema } from './destructive-ops.params.js';
import { createDestructiveOpsDetector } from './destructive-ops.detector.js';

export const destructiveOps = defineDetector({
  name: 'destructive-ops',
  params: destructiveOpsParamsSchema,
  create: (params) => [createDestructiveOpsDetector(params)],
});
