// auth-failures' parameters (its block under `detectors:` in the pipeline YAML).
import { z } from 'zod';
import { historyHours, logSigmas, windowInHour } from '../shared/params.js';

export const authFailuresParamsSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Burst window (divides an hour); the baseline learns each hour's busiest window. */
    window: windowInHour,
    /** Never fire below this many failures in a window (no warm-up: a new network may be the attack). */
    min_failures: z.number().int().positive().default(20),
    threshold_sigmas: logSigmas,
    history_hours: historyHours,
    /** Entity kinds watched. */
    entities: z
      .array(z.enum(['actor', 'credential', 'src_net']))
      .min(1)
      .default(['actor', 'credential', 'src_net']),
    /** `error_type` substrings (case-insensitive) by which a gateway says the credential is revoked. */
    revoked_markers: z.array(z.string().min(1)).default(['revoked']),
  })
  .strict();

export type AuthFailuresParams = z.infer<typeof authFailuresParamsSchema>;
