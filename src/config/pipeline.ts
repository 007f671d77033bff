// The pipeline definition (pipelines/*.yaml): sources, detectors and their parameters, response policy.
import { z } from 'zod';
import { duration } from './duration.js';
import { responseSchema } from './response.js';
import { tenancySchema } from './tenancy.js';

export * from './response.js';

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
    /**
     * Consecutive points above the band after which the baseline re-centres on the new level
     * (a point is a closed hour's busiest window; a row in `vigil backtest series`); 0 never adapts.
     */
    adapt_after: z.number().int().min(0).max(168).default(6),
  })
  .strict();

const SENSITIVITIES = ['low', 'medium', 'high', 'critical'] as const;
const sensitivity = z.enum(SENSITIVITIES);

/**
 * Sensitivity out of the box: a collection whose name has one of these words (see
 * detectors/shared/sensitivity.ts for the matching) is at least this sensitive unless labelled.
 * Replaced whole by `sensitivity_patterns` in the pipeline YAML (`{}` turns them off).
 */
export const DEFAULT_SENSITIVITY_PATTERNS: Readonly<Record<string, (typeof SENSITIVITIES)[number]>> =
  Object.freeze({
    secret: 'critical',
    credential: 'critical',
    password: 'critical',
    passwd: 'critical',
    pii: 'high',
    phi: 'high',
    ssn: 'high',
    hr: 'high',
    payroll: 'high',
    salary: 'high',
    salaries: 'high',
    finance: 'high',
    financial: 'high',
    bank: 'high',
    banking: 'high',
    tax: 'high',
    legal: 'high',
    contract: 'high',
    medical: 'high',
    health: 'high',
    patient: 'high',
    employee: 'high',
  });

/** A name pattern: one lowercase word of letters and digits. */
const patternWord = z
  .string()
  .regex(/^[a-z0-9]+$/, 'a sensitivity pattern is one lowercase word of letters and digits');

/** An hour's window length: divides an hour, from 1m to 1h. */
const windowInHour = duration
  .default('10m')
  .refine(
    (ms) => ms >= 60_000 && ms <= 3_600_000 && 3_600_000 % ms === 0,
    'must divide an hour, from 1m to 1h (e.g. 5m, 10m, 15m)',
  );
/** Active hours of history a log-scale baseline keeps. */
const historyHours = z.number().int().min(8).max(64).default(24);
/** Width of a log-scale band in robust σ (σ measured in doublings). */
const logSigmas = z.number().positive().default(4);

export const newCollectionParamsSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Event time an identity must have been seen before its first accesses count as new. */
    warmup_hours: z.number().int().positive().default(168),
    /** Fire when sensitivity × peer rarity × (own novelty damping) reaches this. */
    min_score: z.number().min(0).max(1).default(0.5),
    /** Collections remembered per identity (least recently used forgotten first). */
    max_known: z.number().int().min(8).max(128).default(32),
    /** Half-life of the identity's own rate of new collections (an explorer is not news). */
    discovery_half_life: duration.default('7d'),
    /** Sensitivity of collections without a label. */
    default_sensitivity: sensitivity.default('medium'),
    /** Sensitivity labels by collection name; a key ending in `*` matches a prefix. */
    collections: z.record(z.string().min(1), z.object({ sensitivity }).strict()).default({}),
    /**
     * Sensitivity of unlabelled collections by a word of their name (`pii: high` makes
     * customer_pii high); of several matching words the most sensitive wins. A label in
     * `collections` comes first.
     * @defaultValue DEFAULT_SENSITIVITY_PATTERNS
     */
    sensitivity_patterns: z.record(patternWord, sensitivity).default({ ...DEFAULT_SENSITIVITY_PATTERNS }),
    /** Peers learned from co-access (default), or identities sharing an event attribute's value. */
    peer_groups: z.enum(['co-access', 'attribute']).default('co-access'),
    /** The attribute naming an identity's group when `peer_groups: attribute` (e.g. team, role). */
    peer_attribute: z.string().min(1).default('team'),
    /** Collections whose co-access a tenant remembers (least recently used forgotten first). */
    max_tenant_collections: z.number().int().min(16).max(1024).default(128),
    /** Attribute peer groups remembered per tenant. */
    max_peer_groups: z.number().int().min(1).max(4096).default(64),
    /** Tenants whose peer tables are kept (least recently active forgotten first). */
    max_tenants: z.number().int().min(1).max(100_000).default(1000),
  })
  .strict();

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

export const bulkExtractionParamsSchema = z
  .object({
    enabled: z.boolean().default(true),
    warmup_hours: z.number().int().positive().default(24),
    threshold_sigmas: logSigmas,
    history_hours: historyHours,
    /** Floors per hour below which nothing fires, whatever the baseline says. */
    min_rows: z.number().int().positive().default(10_000),
    min_bytes: z.number().int().positive().default(52_428_800), // 50 MiB
    min_vectors: z.number().int().positive().default(100),
    min_scrolls: z.number().int().positive().default(50),
    min_top_k: z.number().int().positive().default(1000),
  })
  .strict();

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
      .object({
        'volume-spike': volumeSpikeParamsSchema.default({}),
        'new-collection': newCollectionParamsSchema.default({}),
        'access-breadth': accessBreadthParamsSchema.default({}),
        'bulk-extraction': bulkExtractionParamsSchema.default({}),
        'destructive-ops': destructiveOpsParamsSchema.default({}),
        'auth-failures': authFailuresParamsSchema.default({}),
        'credential-sharing': credentialSharingParamsSchema.default({}),
        'off-hours': offHoursParamsSchema.default({}),
      })
      .strict()
      .default({}),
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
         * recently active ones are packed (src/detect/cold-state.ts) until their next event.
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

export type PipelineConfig = z.infer<typeof pipelineSchema>;
export type SourceName = 'generic' | 'otlp' | 'hoop' | 'teleport';
export type VolumeSpikeParams = z.infer<typeof volumeSpikeParamsSchema>;
export type Sensitivity = (typeof SENSITIVITIES)[number];
export type NewCollectionParams = z.infer<typeof newCollectionParamsSchema>;
export type AccessBreadthParams = z.infer<typeof accessBreadthParamsSchema>;
export type BulkExtractionParams = z.infer<typeof bulkExtractionParamsSchema>;
export type DestructiveOpsParams = z.infer<typeof destructiveOpsParamsSchema>;
export type AuthFailuresParams = z.infer<typeof authFailuresParamsSchema>;
export type CredentialSharingParams = z.infer<typeof credentialSharingParamsSchema>;
export type OffHoursParams = z.infer<typeof offHoursParamsSchema>;
