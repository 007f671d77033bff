// credential-sharing's parameters (its block under `detectors:` in the pipeline YAML; new-network's too).
import { z } from 'zod';
import { historyHours } from '../shared/params.js';

export const credentialSharingParamsSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Event time a credential must have been seen before sharing fires. */
    warmup_hours: z.number().int().positive().default(24),
    /** Fire when this many actors use one credential in an hour, and more than it ever had. */
    min_actors: z.number().int().min(2).default(2),
    /** Fire when this many source networks use one credential in an hour, and twice its usual. */
    min_networks: z.number().int().min(2).default(4),
    /**
     * Fire when this many source networks the credential never used (of the last
     * `max_known_networks` it used) use it in one hour, and more than any hour had.
     */
    min_foreign_networks: z.number().int().min(2).default(3),
    history_hours: historyHours,
    /** Also watch each identity for a source network it never used. */
    new_network: z.boolean().default(true),
    new_network_warmup_hours: z.number().int().positive().default(168),
    new_network_min_score: z.number().min(0).max(1).default(0.5),
    /** Networks remembered per identity and per credential (least recently used forgotten first). */
    max_known_networks: z.number().int().min(4).max(64).default(16),
  })
  .strict();

export type CredentialSharingParams = z.infer<typeof credentialSharingParamsSchema>;
