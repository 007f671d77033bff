// The pipeline definition (pipelines/*.yaml): sources, detectors and their parameters, response policy.
import { z } from 'zod';
import { duration } from './duration.js';

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
  })
  .strict();

const webhookActionSchema = z
  .object({
    type: z.literal('webhook'),
    mode: z.enum(['enforce', 'dry-run', 'approval']).default('enforce'),
    url_env: z.string().default('VIGIL_WEBHOOK_URL'),
    secret_env: z.string().default('VIGIL_WEBHOOK_SECRET'),
    timeout: duration.default('5s'),
  })
  .strict();

export const responseSchema = z
  .object({
    /** A finding at or above this score opens (or updates) an incident. */
    incident_min_score: z.number().min(0).max(1).default(0.7),
    /** Findings of one identity within this window are grouped into one incident. */
    incident_group_window: duration.default('1h'),
    max_attempts: z.number().int().min(1).max(50).default(8),
    actions: z.array(webhookActionSchema).default([]),
  })
  .strict();

export const pipelineSchema = z
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
    detectors: z
      .object({ 'volume-spike': volumeSpikeParamsSchema.default({}) })
      .strict()
      .default({}),
    response: responseSchema.default({}),
  })
  .strict();

export type PipelineConfig = z.infer<typeof pipelineSchema>;
export type SourceName = 'generic' | 'otlp' | 'hoop' | 'teleport';
export type VolumeSpikeParams = z.infer<typeof volumeSpikeParamsSchema>;
export type ResponseConfig = z.infer<typeof responseSchema>;
export type WebhookActionConfig = z.infer<typeof webhookActionSchema>;
