// off-hours' contract: what the pipeline schema and the registry know of it.
import { defineDetector } from '../../src/detect/contract.js';
import { offHoursParamsSchema } from './off-hours.params.js';
import { createOffHoursDetector } from './off-hours.detector.js';

export const offHours = defineDetector({
  name: 'off-hours',
  params: offHoursParamsSchema,
  create: (params) => [createOffHoursDetector(params)],
});
