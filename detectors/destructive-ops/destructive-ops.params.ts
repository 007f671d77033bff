// destructive-ops' parameters (its block under `detectors:` in the pipeline YAML).
import { z } from 'zod';
import { historyHours, logSigmas } from '../shared/params.js';

export const destructiveOpsParamsSchema = z
  .object({
    enabled: z.boolean().default(true),
    warmup_hours: z.number().int().positive().default(24),
    threshold_sigmas: logSigmas,
    history_hours: historyHours,
    /** Floors per hour below which delete / drop volume does not fire. */
    min_deletes: z.number().int().positive().default(100),
    min_drops: z.number().int().positive().default(3),
    /** Fire on any drop_collection by an identity that never administered (after warm-up). */
    non_admin_drop: z.boolean().default(true),
  })
  .strict();

export type DestructiveOpsParams = z.infer<typeof destructiveOpsParamsSchema>;
