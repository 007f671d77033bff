// access-breadth's parameters (its block under `detectors:` in the pipeline YAML).
import { z } from 'zod';
import { historyHours, logSigmas } from '../shared/params.js';

export const accessBreadthParamsSchema = z
  .object({
    enabled: z.boolean().default(true),
    warmup_hours: z.number().int().positive().default(24),
    /** Never fire below this many distinct collections in an hour (unless `tenant_share` lowers the top). */
    min_collections: z.number().int().positive().default(10),
    /**
     * Once a tenant has been seen for `warmup_hours`, an hour touching more than this share of
     * its collections is beyond the band (kept at least a doubling over the identity's usual).
     */
    tenant_share: z.number().gt(0).max(1).default(0.75),
    /** Tenants whose collection counts are kept (least recently active forgotten first). */
    max_tenants: z.number().int().min(1).max(100_000).default(1000),
    threshold_sigmas: logSigmas,
    history_hours: historyHours,
  })
  .strict();

export type AccessBreadthParams = z.infer<typeof accessBreadthParamsSchema>;
