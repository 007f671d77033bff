// The documented generic gateway event (one JSON object per NDJSON line); see
// generic-event.schema.json and README "Generic gateway events".
import { z } from 'zod';
import { ACTOR_TYPES, OUTCOMES } from '../../model/index.js';

const MAX_TEXT = 512;
const text = (max = MAX_TEXT) => z.string().max(max, `must be at most ${max} characters`);
const nonNegInt = z
  .number()
  .int('must be an integer')
  .nonnegative('must be >= 0')
  .max(Number.MAX_SAFE_INTEGER);

export const genericEventSchema = z
  .object({
    id: text(256).optional(),
    time: z.union([z.string().max(64), z.number()]),
    tenant: z
      .string()
      .min(1, 'must not be empty')
      .max(128, 'must be at most 128 characters')
      .regex(/^[A-Za-z0-9_.:-]+$/, 'may contain only letters, digits and _ . : -'),
    user: text().min(1, 'must not be empty').optional(),
    actor: text().min(1, 'must not be empty').optional(),
    actor_type: z.enum(ACTOR_TYPES).default('user'),
    credential: text().optional(),
    session: text().optional(),
    src_ip: text(64).optional(),
    client: text(256).optional(),
    system: text(64).min(1, 'must not be empty'),
    operation: text(128).min(1, 'must not be empty'),
    collection: text(256).optional(),
    namespace: text(256).optional(),
    top_k: nonNegInt.optional(),
    returned: nonNegInt.optional(),
    vectors_returned: nonNegInt.optional(),
    bytes_out: nonNegInt.optional(),
    outcome: z.enum(OUTCOMES).optional(),
    status_code: z.number().int().min(-1_000_000).max(1_000_000).optional(),
    error_type: text(128).optional(),
    masked: z.boolean().optional(),
    review: z.boolean().optional(),
    blocked: z.boolean().optional(),
    latency_ms: z.number().nonnegative('must be >= 0').max(86_400_000).optional(),
    query: z.string().max(65_536).optional(),
    trace_id: text(64).optional(),
    span_id: text(32).optional(),
    attributes: z
      .record(z.string().max(128), z.union([z.string().max(1024), z.number(), z.boolean()]))
      .optional(),
  })
  .strict()
  .refine((e) => e.user !== undefined || e.actor !== undefined, {
    message: 'one of user or actor is required',
    path: ['user'],
  });

export type GenericEvent = z.infer<typeof genericEventSchema>;
