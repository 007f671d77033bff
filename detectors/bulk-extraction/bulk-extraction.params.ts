// bulk-extraction's parameters (its block under `detectors:` in the pipeline YAML).
import { z } from 'zod';
import { historyHours, logSigmas } from '../shared/params.js';

export const bulkExtractionParamsSchema = z
  .object({
    enabled: z.boolean().default(true),
    warmup_hours: z.number().int().positive().default(24),
    threshold_sigmas: logSigmas,
    history_hours: historyHours,
    /** Floors per hour below which nothing fires, whatever the baseline says. */
    min_rows: z.number().int().positive().default(10_000),
    min_bytes: z.number().int().positive().default(52_428_800), // 50 MiB
    min_vectors: z.number().int().positive().default(100),
    min_scrolls: z.number().int().positive().default(50),
    min_top_k: z.number().int().positive().default(1000),
  })
  .strict();

export type BulkExtractionParams = z.infer<typeof bulkExtractionParamsSchema>;
