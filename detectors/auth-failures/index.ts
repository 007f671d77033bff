// auth-failures' contract: what the pipeline schema and the registry know of it (one detector per
// watched entity kind).
import { defineDetector } from '../../src/detect/contract.js';
import { authFailuresParamsSchema } from './auth-failures.params.js';
import { createAuthFailuresDetectors } from './auth-failures.detector.js';

export const authFailures = defineDetector({
  name: 'auth-failures',
  params: authFailuresParamsSchema,
  create: (params) => createAuthFailuresDetectors(params),
});
