// volume-spike's parameters (its block under `detectors:` in the pipeline YAML).
import { z } from 'zod';
import { duration } from '../../src/config/duration.js';

export const volumeSpikeParamsSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Detection window (divides an hour); the baseline learns each hour's busiest window. */
    window: duration
      .default('10m')
      .refine(
        (ms) => ms >= 60_000 && ms <= 3_600_000 && 3_600_000 % ms === 0,
        'must divide an hour, from 1m to 1h (e.g. 5m, 10m, 15m)',
      ),
    /** Hours of history an identity needs before the detector may fire for it. */
    warmup_hours: z.number().int().positive().default(24),
    /** Never fire below this many requests in a window, whatever the baseline says. */
    min_count: z.number().int().positive().default(50),
    /** Width of the band in robust standard deviations (1.4826 × MAD, at least √expected). */
    threshold_sigmas: z.number().positive().default(6),
    /** Hours of history kept per hour-of-day slot (weekday and weekend kept apart). */
    history_per_slot: z.number().int().min(3).max(32).default(8),
    /**
     * Consecutive points above the band after which the baseline re-centres on the new level
     * (a point is a closed hour's busiest window; a row in `vigil backtest series`); 0 never adapts.
     */
    adapt_after: z.number().int().min(0).max(168).default(6),
  })
  .strict();

export type VolumeSpikeParams = z.infer<typeof volumeSpikeParamsSchema>;
