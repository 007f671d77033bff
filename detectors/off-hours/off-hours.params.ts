// off-hours' parameters (its block under `detectors:` in the pipeline YAML).
import { z } from 'zod';
import { duration } from '../../src/config/duration.js';

export const offHoursParamsSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Event time of profile an identity needs (a week sees every weekday and a weekend). */
    warmup_hours: z.number().int().positive().default(168),
    /** Never fire below this many events in the off hour. */
    min_events: z.number().int().positive().default(5),
    /** Fire at this score (an hour next to the profile scores below 0.5). */
    min_score: z.number().min(0).max(1).default(0.5),
    /** The profile halves every period, so hours no longer worked are forgotten. */
    forget_after: duration.default('28d'),
  })
  .strict();

export type OffHoursParams = z.infer<typeof offHoursParamsSchema>;
