// The documented generic gateway event (one JSON object per NDJSON line); see
// generic-event.schema.json and README "Generic gateway events".
import { z } from 'zod';
import { ACTOR_TYPES, REPORTED_OUTCOMES } from '../../model/index.js';
import { compileRejects } from '../schema-verdict.js';

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
    outcome: z.enum(REPORTED_OUTCOMES).optional(),
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
export type GenericEventInput = z.input<typeof genericEventSchema>;

// The hot path's view of the same contract. zod costs several microseconds an event (an issue
// object is made for every union branch it tries), more than the rest of normalization; almost
// every event a gateway sends is valid. So a value is first checked here: `true` only when the
// schema accepts it unchanged (apart from the actor_type default), checked field by field against
// the same limits; anything else, valid or not, goes through zod, which also words the rejection.
// Kept in step with the schema by test/unit/collectors/generic-fast-check.test.ts (zod agrees on every value
// accepted here, generated or hand-picked at the limits).
/** The documented top-level fields. */
export const GENERIC_FIELDS: ReadonlySet<string> = new Set(Object.keys(genericEventSchema._def.schema.shape));
const FIELDS = GENERIC_FIELDS;
const TENANT = /^[A-Za-z0-9_.:-]+$/;
const ACTOR_TYPE_SET: ReadonlySet<unknown> = new Set(ACTOR_TYPES);
const OUTCOME_SET: ReadonlySet<unknown> = new Set(REPORTED_OUTCOMES);

const isText = (v: unknown, max: number, min = 0) =>
  typeof v === 'string' && v.length <= max && v.length >= min;
const optText = (v: unknown, max: number, min = 0) => v === undefined || isText(v, max, min);
const optCount = (v: unknown) => v === undefined || (Number.isSafeInteger(v) && (v as number) >= 0);
const optBool = (v: unknown) => v === undefined || typeof v === 'boolean';

/** A non-array object literal (prototype Object.prototype), as JSON.parse makes them. */
function isPlainRecord(v: unknown): v is Record<string, unknown> {
  return (
    typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype
  );
}

function plainAttributes(v: unknown): boolean {
  if (v === undefined) return true;
  if (!isPlainRecord(v)) return false;
  for (const key in v) {
    // zod leaves a `__proto__` key out of the record it returns: not "unchanged".
    if (key.length > 128 || key === '__proto__') return false;
    const x = (v as Record<string, unknown>)[key];
    if (
      typeof x === 'string'
        ? x.length > 1024
        : typeof x === 'number'
          ? !Number.isFinite(x)
          : typeof x !== 'boolean'
    )
      return false;
  }
  return true;
}

/** True only for values `genericEventSchema` accepts unchanged (see above); false says nothing. */
export function isPlainGenericEvent(v: unknown): v is GenericEventInput {
  if (!isPlainRecord(v)) return false;
  for (const key in v) if (!FIELDS.has(key)) return false;
  const e = v as Record<string, unknown>;
  const time = e.time;
  return (
    (typeof time === 'string' ? time.length <= 64 : typeof time === 'number' && Number.isFinite(time)) &&
    isText(e.tenant, 128, 1) &&
    TENANT.test(e.tenant as string) &&
    (e.user !== undefined || e.actor !== undefined) &&
    optText(e.user, 512, 1) &&
    optText(e.actor, 512, 1) &&
    (e.actor_type === undefined || ACTOR_TYPE_SET.has(e.actor_type)) &&
    isText(e.system, 64, 1) &&
    isText(e.operation, 128, 1) &&
    optText(e.id, 256) &&
    optText(e.credential, 512) &&
    optText(e.session, 512) &&
    optText(e.src_ip, 64) &&
    optText(e.client, 256) &&
    optText(e.collection, 256) &&
    optText(e.namespace, 256) &&
    optCount(e.top_k) &&
    optCount(e.returned) &&
    optCount(e.vectors_returned) &&
    optCount(e.bytes_out) &&
    (e.outcome === undefined || OUTCOME_SET.has(e.outcome)) &&
    (e.status_code === undefined ||
      (Number.isInteger(e.status_code) && Math.abs(e.status_code as number) <= 1_000_000)) &&
    optText(e.error_type, 128) &&
    optBool(e.masked) &&
    optBool(e.review) &&
    optBool(e.blocked) &&
    (e.latency_ms === undefined ||
      (typeof e.latency_ms === 'number' && e.latency_ms >= 0 && e.latency_ms <= 86_400_000)) &&
    optText(e.query, 65_536) &&
    optText(e.trace_id, 64) &&
    optText(e.span_id, 32) &&
    plainAttributes(e.attributes)
  );
}

const rejectsFields = compileRejects(genericEventSchema);

/**
 * True only when `genericEventSchema` refuses `v`: the fields' verdict compiled from the schema
 * (schema-verdict.ts), plus the one refinement (user or actor). Lets a body's rejections past the
 * listed ones skip zod (test/unit/collectors/schema-verdict.test.ts keeps it exact).
 */
export function genericEventRejects(v: unknown): boolean {
  if (rejectsFields(v)) return true;
  const e = v as Record<string, unknown>;
  return e.user === undefined && e.actor === undefined;
}
