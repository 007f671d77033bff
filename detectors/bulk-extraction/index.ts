// bulk-extraction's contract: what the pipeline schema and the registry know of it.
import { defineDetector } from '../../src/detect/contract.js';
import { bulkExtractionParamsSchema } from './bulk-extraction.params.js';
import { createBulkExtractionDetector } from './bulk-extraction.detector.js';

export const bulkExtraction = defineDetector({
  name: 'bulk-extraction',
  params: bulkExtractionParamsSchema,
  create: (params) => [createBulkExtractionDetector(params)],
});
