// The `response` section of a pipeline: when an incident opens, which containment and notification
// targets exist, the policy rules that map findings to actions on them, and the guardrails around
// those actions. Secrets and URLs of targets come from env vars named here, never from the YAML.
import { z } from 'zod';
import { duration } from './duration.js';

export const ACTION_MODES = ['enforce', 'dry-run', 'approval'] as const;
const mode = z.enum(ACTION_MODES);
const level = z.enum(['low', 'medium', 'high', 'critical']);
const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name');
/** Target names end up in job ids and action rows: BullMQ forbids ':' in ids. */
const targetName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/, 'letters, digits, _ and - only (at most 63)');
const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL');
const timeout = duration.default('10s');

const webhookFields = z
  .object({
    type: z.literal('webhook'),
    mode: mode.default('enforce'),
    url_env: envName.default('VIGIL_WEBHOOK_URL'),
    secret_env: envName.default('VIGIL_WEBHOOK_SECRET'),
    timeout: duration.default('5s'),
  })
  .strict();

/**
 * The name a `response.actions` entry gets when the YAML gives none: its kind and the variable
 * holding its URL (the target's identity), e.g. `webhook-vigil-webhook-url`. Env var names are
 * upper case, so lower-casing them loses nothing.
 */
export function derivedActionName(a: { type: string; url_env: string }): string {
  return `${a.type}-${a.url_env.toLowerCase().replaceAll('_', '-')}`;
}

/**
 * A `response.actions` entry. Queued jobs point at it by `name`, never by its position in the
 * list: reordering the YAML must not send a pending retry to another target.
 */
const webhookActionSchema = webhookFields
  .extend({ name: targetName.optional() })
  .transform((a) => ({ ...a, name: a.name ?? derivedActionName(a) }));

/** Targets: where actions go. One adapter per type under src/respond/actions/. */
const postgresTarget = z
  .object({
    type: z.literal('postgres'),
    /** Connection URL of a role allowed to ALTER ROLE and signal backends (CREATEROLE + pg_signal_backend). */
    url_env: envName.default('VIGIL_PG_ADMIN_URL'),
    /**
     * Roles shared by a pool or a gateway (pgbouncer, the hoop agent, an app's pool): locking one
     * locks everybody behind it, so vigil escalates to a person instead.
     */
    shared_roles: z.array(z.string().min(1)).default([]),
    /** Superusers are escalated too (locking one is rarely what an on-call engineer wants at 3 am). */
    escalate_superusers: z.boolean().default(true),
    /** Terminate the role's live sessions (NOLOGIN alone only blocks new connections). */
    terminate: z.boolean().default(true),
    /** How long pg_terminate_backend waits for each backend to exit. */
    terminate_timeout: duration.default('5s'),
    /** Also revoke the role's memberships in other roles (undo grants them back). */
    revoke_memberships: z.boolean().default(false),
    timeout,
  })
  .strict();

const weaviateTarget = z
  .object({
    type: z.literal('weaviate'),
    /** Base URL without /v1 (e.g. https://weaviate.internal:8080). */
    url_env: envName.default('VIGIL_WEAVIATE_URL'),
    api_key_env: envName.default('VIGIL_WEAVIATE_API_KEY'),
    timeout,
  })
  .strict();

const milvusTarget = z
  .object({
    type: z.literal('milvus'),
    /** Base URL of the REST API (requests go to /v2/vectordb/…). */
    url_env: envName.default('VIGIL_MILVUS_URL'),
    /** `user:password` or an API key, sent as a bearer token. */
    token_env: envName.default('VIGIL_MILVUS_TOKEN'),
    /** revoke_roles: take the user's roles away (undoable); drop: delete the user. */
    operation: z.enum(['revoke_roles', 'drop']).default('revoke_roles'),
    timeout,
  })
  .strict();

const pineconeTarget = z
  .object({
    type: z.literal('pinecone'),
    url: httpUrl.default('https://api.pinecone.io'),
    /** Overrides `url` when set. */
    url_env: envName.default('VIGIL_PINECONE_API_URL'),
    token_url: httpUrl.default('https://login.pinecone.io/oauth/token'),
    token_url_env: envName.default('VIGIL_PINECONE_TOKEN_URL'),
    /** Service account credentials (client-credentials grant). */
    client_id_env: envName.default('VIGIL_PINECONE_CLIENT_ID'),
    client_secret_env: envName.default('VIGIL_PINECONE_CLIENT_SECRET'),
    audience: z.string().default('https://api.pinecone.io/'),
    api_version: z.string().default('2025-04'),
    /** delete: revoke the API key; restrict: replace its roles with `restricted_roles` (undoable). */
    operation: z.enum(['delete', 'restrict']).default('delete'),
    restricted_roles: z.array(z.string().min(1)).min(1).default(['ControlPlaneViewer']),
    timeout,
  })
  .strict();

const qdrantCloudTarget = z
  .object({
    type: z.literal('qdrant-cloud'),
    url: httpUrl.default('https://api.cloud.qdrant.io'),
    url_env: envName.default('VIGIL_QDRANT_CLOUD_URL'),
    /** Management API key, sent as `Authorization: apikey …`. */
    api_key_env: envName.default('VIGIL_QDRANT_CLOUD_API_KEY'),
    /**
     * The account and the cluster whose database API keys are revoked (UUIDs; the v2 API needs
     * both to delete a key: proto/qdrant/cloud/cluster/auth/v2/database_api_key.proto).
     */
    account_id: z.string().uuid('must be the account id (a UUID)'),
    cluster_id: z.string().uuid('must be the cluster id (a UUID)'),
    timeout,
  })
  .strict();

export const HOOP_OPERATIONS = [
  'deactivate_user',
  'kill_sessions',
  'revoke_reviews',
  'revoke_api_key',
] as const;

const hoopTarget = z
  .object({
    type: z.literal('hoop'),
    url_env: envName.default('VIGIL_HOOP_API_URL'),
    /** An admin API key or token (the collector's poller may hold a read-only one). */
    api_token_env: envName.default('VIGIL_HOOP_ADMIN_TOKEN'),
    /** How the key is sent: `Authorization: Bearer` or hoop's `Api-Key` header. */
    auth: z.enum(['bearer', 'api-key']).default('bearer'),
    /**
     * revoke_api_key names an API key (hoop's keys belong to the organisation, not to a user), so it
     * takes a subject of its own and cannot share a target with the user operations.
     */
    operations: z.array(z.enum(HOOP_OPERATIONS)).min(1).default(['deactivate_user', 'kill_sessions']),
    timeout,
  })
  .strict();

const webhookTarget = webhookFields.omit({ mode: true }).extend({ timeout: duration.default('5s') });

const slackTarget = z
  .object({
    type: z.literal('slack'),
    /** The incoming-webhook URL is a secret: it comes from the environment. */
    url_env: envName.default('VIGIL_SLACK_WEBHOOK_URL'),
    timeout: duration.default('5s'),
  })
  .strict();

const pagerdutyTarget = z
  .object({
    type: z.literal('pagerduty'),
    url: httpUrl.default('https://events.pagerduty.com'),
    url_env: envName.default('VIGIL_PAGERDUTY_URL'),
    routing_key_env: envName.default('VIGIL_PAGERDUTY_ROUTING_KEY'),
    timeout: duration.default('5s'),
  })
  .strict();

export const targetSchema = z.discriminatedUnion('type', [
  postgresTarget,
  weaviateTarget,
  milvusTarget,
  pineconeTarget,
  qdrantCloudTarget,
  hoopTarget,
  webhookTarget,
  slackTarget,
  pagerdutyTarget,
]);

export const TARGET_TYPES = [
  'postgres',
  'weaviate',
  'milvus',
  'pinecone',
  'qdrant-cloud',
  'hoop',
  'webhook',
  'slack',
  'pagerduty',
] as const;
/** Types that take a credential or an identity away (the rest notify). */
export const CONTAINMENT_TYPES = [
  'postgres',
  'weaviate',
  'milvus',
  'pinecone',
  'qdrant-cloud',
  'hoop',
] as const;

const policyActionSchema = z
  .object({
    /** Name of an entry of `targets`. */
    target: targetName,
    mode: mode.default('enforce'),
    /** Whose identifier the action needs: the incident's actor, or the finding's entity (e.g. a credential). */
    subject: z.enum(['actor', 'entity']).default('actor'),
  })
  .strict();

const matchSchema = z
  .object({
    /** Detector names; absent = any. */
    detectors: z.array(z.string().min(1)).min(1).optional(),
    entity_types: z.array(z.string().min(1)).min(1).optional(),
    min_severity: level.optional(),
    /** The finding's anomaly score. */
    min_score: z.number().min(0).max(1).optional(),
    /** The identity's accumulated risk (0–100) including this finding. */
    min_risk: z.number().min(0).max(100).optional(),
    /** Sensitivity of the finding's collection (see `collections`). */
    min_sensitivity: level.optional(),
    /** The entity must carry every one of these labels (see `labels`). */
    labels: z.array(z.string().min(1)).min(1).optional(),
    /** Minimums on the finding's features (e.g. {vectors: 100}). */
    features: z.record(z.string().min(1), z.number()).optional(),
  })
  .strict();

const policySchema = z
  .object({
    name: z.string().min(1).max(128),
    enabled: z.boolean().default(true),
    match: matchSchema.default({}),
    actions: z.array(policyActionSchema).min(1),
  })
  .strict();

const guardrailsSchema = z
  .object({
    /** Identities never contained (notifications still go out): tokens and labels. */
    never_contain: z
      .object({
        tokens: z.array(z.string().min(1)).default([]),
        labels: z.array(z.string().min(1)).default([]),
      })
      .strict()
      .default({}),
    /**
     * At most `max_containments` enforced containments per tenant per `window`; beyond it they
     * wait for approval and a `responder.blast-radius` finding says why.
     */
    blast_radius: z
      .object({
        max_containments: z.number().int().min(0).default(10),
        window: duration.default('1h'),
      })
      .strict()
      .default({}),
  })
  .strict();

const weight = z.number().min(0).max(10);

/**
 * Risk that composes: an identity's findings within `window` (event time) add up, each weighted by
 * its collection's sensitivity, and several detectors agreeing multiply the sum.
 */
const riskSchema = z
  .object({
    /** Findings of an identity older than this (event time) no longer count towards its risk. */
    window: duration.default('24h'),
    /** Each further distinct detector among the identity's findings in the window multiplies its risk by 1 + this. */
    corroboration: z.number().min(0).max(4).default(0.5),
    /** Multiplier of a finding's points by its collection's sensitivity (`collections`, name patterns, default). */
    sensitivity_weights: z
      .object({
        low: weight.default(1),
        medium: weight.default(1.25),
        high: weight.default(1.5),
        critical: weight.default(2),
      })
      .strict()
      .default({}),
  })
  .strict();

export const responseSchema = z
  .object({
    /** A finding at or above this score opens (or updates) an incident. */
    incident_min_score: z.number().min(0).max(1).default(0.7),
    /** Findings of one identity within this window are grouped into one incident. */
    incident_group_window: duration.default('1h'),
    /**
     * Risk (0–100) at which an identity's accumulated findings open an incident even when none
     * reaches incident_min_score alone. A finding adds severity weight (10/20/30/40) × score ×
     * confidence; 28 = one critical finding at score 0.7.
     */
    incident_min_risk: z.number().min(1).max(100).default(28),
    /** Time for an identity's risk to halve without new findings. */
    risk_half_life: duration.default('6h'),
    /** How findings compose into an identity's risk (src/detect/risk.ts). */
    risk: riskSchema.default({}),
    max_attempts: z.number().int().min(1).max(50).default(8),
    /** Run for every new incident (kept from before policies; a policy can do the same). */
    actions: z.array(webhookActionSchema).default([]),
    /** Sensitivity per collection; a key ending in `*` matches a prefix. */
    collections: z.record(z.string().min(1), level).default({}),
    default_sensitivity: level.default('low'),
    /** Labels per entity token (e.g. `svc_k1_…: [break-glass, team=platform]`). */
    labels: z.record(z.string().min(1), z.array(z.string().min(1))).default({}),
    targets: z.record(targetName, targetSchema).default({}),
    policies: z.array(policySchema).default([]),
    guardrails: guardrailsSchema.default({}),
  })
  .strict()
  .superRefine((r, ctx) => {
    for (const [name, t] of Object.entries(r.targets)) {
      // hoop's API keys belong to the organisation, not to a user: revoke_api_key needs a key's
      // name or id as its subject, the other operations a user's email.
      if (t.type === 'hoop' && t.operations.includes('revoke_api_key') && t.operations.length > 1)
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['targets', name, 'operations'],
          message:
            'revoke_api_key acts on an API key and the other operations on a user: give it a hoop target of its own (used with subject: entity on findings about a key)',
        });
    }
    // Two actions with one name would share queued jobs: refuse to start rather than guess.
    const actionAt = new Map<string, number>();
    r.actions.forEach((a, i) => {
      const first = actionAt.get(a.name);
      if (first !== undefined)
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['actions', i, 'name'],
          message: `duplicate action name "${a.name}" (also response.actions[${first}]): give one of them its own name:`,
        });
      else actionAt.set(a.name, i);
    });
    const names = new Set<string>();
    r.policies.forEach((p, i) => {
      if (names.has(p.name))
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['policies', i, 'name'],
          message: `duplicate policy name "${p.name}"`,
        });
      names.add(p.name);
      p.actions.forEach((a, j) => {
        if (!r.targets[a.target]) {
          const known = Object.keys(r.targets);
          ctx.addIssue({
            code: z.ZodIssueCode.custom,
            path: ['policies', i, 'actions', j, 'target'],
            message: `unknown target "${a.target}" (${known.length ? `known: ${known.join(', ')}` : 'no targets defined under response.targets'})`,
          });
        }
      });
    });
  });

export type ActionModeConfig = (typeof ACTION_MODES)[number];
export type TargetType = (typeof TARGET_TYPES)[number];
export type ContainmentType = (typeof CONTAINMENT_TYPES)[number];
export type TargetConfig = z.infer<typeof targetSchema>;
export type TargetConfigOf<T extends TargetType> = Extract<TargetConfig, { type: T }>;
export type PolicyConfig = z.infer<typeof policySchema>;
export type PolicyActionConfig = z.infer<typeof policyActionSchema>;
export type GuardrailsConfig = z.infer<typeof guardrailsSchema>;
export type ResponseConfig = z.infer<typeof responseSchema>;
export type WebhookActionConfig = z.infer<typeof webhookActionSchema>;
export type HoopOperation = (typeof HOOP_OPERATIONS)[number];

export function isContainment(type: string): type is ContainmentType {
  return (CONTAINMENT_TYPES as readonly string[]).includes(type);
}
