// The pipeline definition (pipelines/*.yaml): sources, detectors and their parameters, response policy.
import { z } from 'zod';
import { DETECTORS } from '../../detectors/index.js';
import type { DetectorDefinition } from '../detect/contract.js';
import { duration } from './duration.js';
import { responseSchema } from './response.js';
import { tenancySchema } from './tenancy.js';

export * from './response.js';
export * from './sensitivity.js';

const sourceSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Env var holding the source's bearer token(s), comma-separated to allow rotation. */
    token_env: z.string().optional(),
  })
  .strict();

const hoopSourceSchema = sourceSchema
  .extend({
    /** Env var holding the Svix signing secret(s) (`whsec_…`) of hoop.dev's webhooks. */
    webhook_secret_env: z.string().default('VIGIL_HOOP_WEBHOOK_SECRET'),
    /** Optional poller of the gateway's sessions API, for what webhooks do not carry. */
    api_url_env: z.string().default('VIGIL_HOOP_API_URL'),
    api_token_env: z.string().default('VIGIL_HOOP_API_TOKEN'),
    poll_interval: duration.default('60s'),
  })
  .strict();

const kafkaSourceSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** Topic to consume (on the KAFKA_BROKERS cluster). */
    topic: z.string().default('vigil.ingest.v1'),
    /** What the topic carries: generic events, Teleport audit events, hoop session events, or OTLP (protobuf TracesData). */
    format: z.enum(['generic', 'teleport', 'hoop', 'otlp-proto', 'otlp-json']).default('generic'),
    group: z.string().default('source-kafka'),
  })
  .strict();

const isoTime = z
  .string()
  .refine((v) => Number.isFinite(Date.parse(v)), 'must be an ISO-8601 time')
  .transform((v) => Date.parse(v));

/** A suppression rule: findings it matches are stored marked suppressed and never acted on. */
export const suppressionSchema = z
  .object({
    detector: z.string().optional(),
    /** Entity token (e.g. svc_k1_…), exact. */
    entity: z.string().optional(),
    collection: z.string().optional(),
    tenant: z.string().optional(),
    /** Active between these times (ISO-8601); open-ended when absent. */
    from: isoTime.optional(),
    until: isoTime.optional(),
    reason: z.string().min(3, 'say why (it is recorded on every suppressed finding)'),
  })
  .strict()
  .refine((r) => r.detector || r.entity || r.collection || r.tenant, {
    message: 'a rule must match on at least one of detector, entity, collection, tenant',
  });

export type SuppressionRule = z.infer<typeof suppressionSchema>;

/** The parameters of each definition's detector, by its name. */
export type DetectorsParams<Definitions extends readonly DetectorDefinition[]> = {
  [D in Definitions[number] as D['name']]: D extends DetectorDefinition<string, infer P> ? P : never;
};

/**
 * The `detectors` block: one strict block per definition, in their order, each defaulting to its
 * definition's defaults; a name no definition has is refused.
 */
function detectorsSchema<const Definitions extends readonly DetectorDefinition[]>(
  definitions: Definitions,
): z.ZodType<DetectorsParams<Definitions>, z.ZodTypeDef, unknown> {
  const shape: Record<string, z.ZodTypeAny> = {};
  for (const d of definitions) {
    if (shape[d.name]) throw new Error(`two detector definitions are named ${d.name}`);
    shape[d.name] = d.params.default({});
  }
  return z.object(shape).strict().default({}) as z.ZodType as z.ZodType<
    DetectorsParams<Definitions>,
    z.ZodTypeDef,
    unknown
  >;
}

/**
 * The pipeline schema for these detector definitions (detectors/index.ts `DETECTORS` in vigil; a
 * test adds its own).
 */
export function pipelineSchemaFor<const Definitions extends readonly DetectorDefinition[]>(
  definitions: Definitions,
) {
  return z
    .object({
      version: z.literal(1),
      sources: z
        .object({
          generic: sourceSchema.default({ token_env: 'VIGIL_SOURCE_TOKEN_GENERIC' }),
          otlp: sourceSchema.default({ token_env: 'VIGIL_SOURCE_TOKEN_OTLP' }),
          hoop: hoopSourceSchema.default({}),
          teleport: sourceSchema.default({ token_env: 'VIGIL_SOURCE_TOKEN_TELEPORT' }),
          kafka: kafkaSourceSchema.default({}),
        })
        .strict()
        .default({}),
      detectors: detectorsSchema(definitions),
      /** How the detect stage runs the detectors (pipelines/default.yaml, README "Pipeline"). */
      detection: z
        .object({
          /**
           * How far out of event-time order an event may arrive and still count in the window it
           * belongs to. Every finding waits up to this long (in event time) before it fires.
           */
          allowed_lateness: duration.default('0s'),
          /**
           * Entities whose detector states are kept as live objects at most; beyond it the least
           * recently active ones are packed (src/detect/state/cold.ts) until their next event.
           */
          max_hot_entities: z.number().int().min(100).default(10_000),
        })
        .strict()
        .default({}),
      response: responseSchema.default({}),
      /** Findings matching a rule are stored marked `suppressed` and never reach the responder. */
      suppressions: z.array(suppressionSchema).default([]),
      /** How long a false-positive mark raises the bar for that detector × entity. */
      feedback_ttl: duration.default('14d'),
      /** The tenants each source and analyst credential may use (./tenancy.ts); absent: every tenant. */
      tenancy: tenancySchema.optional(),
    })
    .strict();
}

export const pipelineSchema = pipelineSchemaFor(DETECTORS);

export type PipelineConfig = z.infer<typeof pipelineSchema>;
export type SourceName = 'generic' | 'otlp' | 'hoop' | 'teleport';
