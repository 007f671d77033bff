// Configuration: parsed once at start-up from env + the pipeline YAML, frozen, passed in.
// Keys equal their env var names. An error names the key and says what is wrong.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { type ZodError, z } from 'zod';
import { duration } from './duration.js';
import { packageRoot } from './package-root.js';
import { type PipelineConfig, pipelineSchema } from './pipeline.js';

const port = z.coerce.number().int().min(0).max(65535);
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

export const envSchema = z
  .object({
    VIGIL_DATA_DIR: z.string().default('./.vigil'),
    VIGIL_PIPELINE: z.string().default('pipelines/default.yaml'),
    VIGIL_HOST: z.string().default('127.0.0.1'),
    VIGIL_COLLECTOR_PORT: port.default(8088),
    VIGIL_ADMIN_PORT: port.default(8089),
    VIGIL_OTLP_HTTP_PORT: port.default(4318),
    VIGIL_OTLP_GRPC_PORT: port.default(4317),
    VIGIL_ADMIN_TOKEN: optionalString,
    /** Log to this file instead of stderr. */
    VIGIL_LOG_FILE: optionalString,
    VIGIL_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    VIGIL_MAX_BODY_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .default(16 * 1024 * 1024),
    /** Events accepted but not yet durable, beyond which collectors answer 503 + Retry-After. */
    VIGIL_MAX_INFLIGHT_EVENTS: z.coerce.number().int().positive().default(200_000),
    /** Items (events, NDJSON lines, OTLP spans) one request may hold; more is refused whole (413). */
    VIGIL_MAX_ITEMS_PER_REQUEST: z.coerce.number().int().min(1).max(10_000_000).default(50_000),
    /** Longest time to receive a whole request (headers and body) on every listener. */
    VIGIL_REQUEST_TIMEOUT: duration.pipe(z.number().min(1_000, 'must be at least 1s')).default('30s'),
    /** Refused credentials from one address within VIGIL_AUTH_FAILURE_WINDOW before it gets 429. */
    VIGIL_AUTH_FAILURE_LIMIT: z.coerce.number().int().min(1).default(20),
    /** The window refused credentials are counted in, and how long a throttled address waits. */
    VIGIL_AUTH_FAILURE_WINDOW: duration.pipe(z.number().min(1_000, 'must be at least 1s')).default('1m'),
    VIGIL_TOKEN_KEY: optionalString,
    VIGIL_TOKEN_KEY_VERSION: z.coerce.number().int().min(1).max(999).default(1),
    /** During a rotation through the environment: the key of version VIGIL_TOKEN_KEY_VERSION − 1. */
    VIGIL_TOKEN_KEY_PREVIOUS: optionalString,
    /** Keep an encrypted token → raw value vault (needed to contain real credentials). */
    VIGIL_VAULT_ENABLED: bool.default('false'),
    /** 32-byte AES-256-GCM key of the vault (base64 or hex); generated under keys/ when unset. */
    VIGIL_VAULT_KEY: optionalString,
    /** Query text: `off` keeps only a hash of its shape; `redacted` also keeps the text with literals stripped. */
    VIGIL_QUERY_TEXT: z.enum(['off', 'redacted']).default('off'),
    /** Read-only admin API token(s) (findings, incidents, summary; no re-identification). */
    VIGIL_ANALYST_TOKEN: optionalString,
    /** TLS for every listener; with VIGIL_TLS_CA_FILE clients must present a certificate (mTLS). */
    VIGIL_TLS_CERT_FILE: optionalString,
    VIGIL_TLS_KEY_FILE: optionalString,
    VIGIL_TLS_CA_FILE: optionalString,
    /** mTLS: client certificate subjects (CN or DNS/URI SAN) allowed; empty = any the CA signed. */
    VIGIL_TLS_CLIENT_ALLOWLIST: optionalString,
    /** The read-only ClickHouse HTTP interface on the admin port (/clickhouse), for Grafana. */
    VIGIL_CLICKHOUSE_HTTP_ENABLED: bool.default('true'),
    /** vigil's own traces and metrics go here over OTLP/HTTP (/v1/traces, /v1/metrics); unset = off. */
    OTEL_EXPORTER_OTLP_ENDPOINT: optionalString.pipe(z.string().url().optional()),
    OTEL_SERVICE_NAME: z.string().default('vigil'),
    /** Milliseconds between metric exports (the OpenTelemetry variable's unit). */
    OTEL_METRIC_EXPORT_INTERVAL: z.coerce.number().int().min(1_000).default(60_000),
    VIGIL_EVENTS_TTL_DAYS: z.coerce.number().int().min(1).max(36500).default(180),
    VIGIL_WRITER_MAX_ROWS: z.coerce.number().int().positive().default(20_000),
    VIGIL_WRITER_MAX_AGE: duration.default('250ms'),
    VIGIL_WRITER_MAX_BUFFERED_ROWS: z.coerce.number().int().positive().default(200_000),
    CLICKHOUSE_URL: optionalString,
    CLICKHOUSE_USER: z.string().default('default'),
    CLICKHOUSE_PASSWORD: z.string().default(''),
    CLICKHOUSE_DATABASE: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a plain identifier')
      .default('vigil'),
    CLICKHOUSE_TLS_CA_FILE: optionalString,
    CLICKHOUSE_TLS_CERT_FILE: optionalString,
    CLICKHOUSE_TLS_KEY_FILE: optionalString,
    KAFKA_BROKERS: optionalString,
    KAFKA_CLIENT_ID: z.string().default('vigil'),
    /** Prepended to topic and consumer-group names (isolation of tests and tenants of a shared cluster). */
    KAFKA_TOPIC_PREFIX: z.string().default(''),
    KAFKA_PARTITIONS: z.coerce.number().int().min(1).max(1024).default(6),
    REDIS_URL: optionalString,
    VIGIL_QUEUE_PREFIX: z.string().default('vigil'),
    VIGIL_DEMO_FAST: optionalString.pipe(bool.optional()),
    // SIEM export (src/export): a sink runs for each destination configured here.
    /** Record kinds streamed to the sinks: finding, incident, action, event. */
    VIGIL_EXPORT_KINDS: z.string().default('finding,incident,action'),
    /** Only this tenant's records (empty: every tenant). */
    VIGIL_EXPORT_TENANT: optionalString,
    VIGIL_EXPORT_INTERVAL: duration.default('5s'),
    VIGIL_EXPORT_BATCH_SIZE: z.coerce.number().int().min(1).max(50_000).default(500),
    VIGIL_EXPORT_SPLUNK_URL: optionalString,
    VIGIL_EXPORT_SPLUNK_TOKEN: optionalString,
    VIGIL_EXPORT_SPLUNK_INDEX: optionalString,
    VIGIL_EXPORT_ELASTIC_URL: optionalString,
    /** Elasticsearch API key (the base64 `id:key` form). */
    VIGIL_EXPORT_ELASTIC_API_KEY: optionalString,
    /** Index or data stream; `{kind}` becomes the record kind. */
    VIGIL_EXPORT_ELASTIC_INDEX: z.string().default('vigil-{kind}'),
    /** CEF over syslog (RFC 5424, octet-counted TCP): host:port. */
    VIGIL_EXPORT_SYSLOG_ADDRESS: optionalString,
    VIGIL_EXPORT_SYSLOG_TLS: bool.default('false'),
    VIGIL_EXPORT_SYSLOG_TLS_CA_FILE: optionalString,
    VIGIL_EXPORT_OCSF_FILE: optionalString,
    VIGIL_EXPORT_OCSF_URL: optionalString,
    VIGIL_EXPORT_OCSF_TOKEN: optionalString,
  })
  .superRefine((env, ctx) => {
    if (Boolean(env.VIGIL_EXPORT_SPLUNK_URL) !== Boolean(env.VIGIL_EXPORT_SPLUNK_TOKEN)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['VIGIL_EXPORT_SPLUNK_TOKEN'],
        message: 'VIGIL_EXPORT_SPLUNK_URL and VIGIL_EXPORT_SPLUNK_TOKEN must be set together',
      });
    }
    if (env.VIGIL_EXPORT_SYSLOG_ADDRESS && !/^[^\s:]+:\d{1,5}$/.test(env.VIGIL_EXPORT_SYSLOG_ADDRESS)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['VIGIL_EXPORT_SYSLOG_ADDRESS'],
        message: 'must be host:port (e.g. siem.example.com:6514)',
      });
    }
    if (Boolean(env.CLICKHOUSE_TLS_CERT_FILE) !== Boolean(env.CLICKHOUSE_TLS_KEY_FILE)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['CLICKHOUSE_TLS_CERT_FILE'],
        message: 'CLICKHOUSE_TLS_CERT_FILE and CLICKHOUSE_TLS_KEY_FILE must be set together',
      });
    }
    if (Boolean(env.VIGIL_TLS_CERT_FILE) !== Boolean(env.VIGIL_TLS_KEY_FILE)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['VIGIL_TLS_CERT_FILE'],
        message: 'VIGIL_TLS_CERT_FILE and VIGIL_TLS_KEY_FILE must be set together',
      });
    }
    if (env.VIGIL_TLS_CA_FILE && !env.VIGIL_TLS_CERT_FILE) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['VIGIL_TLS_CA_FILE'],
        message: 'client certificates (mTLS) need VIGIL_TLS_CERT_FILE and VIGIL_TLS_KEY_FILE',
      });
    }
    if (env.VIGIL_COLLECTOR_PORT !== 0 && env.VIGIL_COLLECTOR_PORT === env.VIGIL_ADMIN_PORT) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['VIGIL_ADMIN_PORT'],
        message: 'must differ from VIGIL_COLLECTOR_PORT',
      });
    }
  });

export type Env = z.infer<typeof envSchema>;

export interface Config {
  readonly env: Readonly<Env>;
  readonly pipeline: Readonly<PipelineConfig>;
  /** Absolute data directory of the embedded mode. */
  readonly dataDir: string;
  readonly mode: {
    readonly bus: 'kafka' | 'in-process';
    readonly store: 'server' | 'embedded';
    readonly queue: 'bullmq' | 'in-process';
  };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function formatZodError(where: string, err: ZodError): string {
  const lines = err.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
  return `${where} is invalid:\n${lines.join('\n')}`;
}

/** Parses env and the pipeline YAML once. Throws ConfigError naming every bad key. */
export function loadConfig(
  rawEnv: NodeJS.ProcessEnv = process.env,
  overrides: Partial<Record<keyof Env, string>> = {},
): Config {
  const envResult = envSchema.safeParse({ ...pickDefined(rawEnv), ...pickDefined(overrides) });
  if (!envResult.success) throw new ConfigError(formatZodError('environment', envResult.error));
  const env = envResult.data;
  const pipeline = loadPipeline(env.VIGIL_PIPELINE);
  if (pipeline.sources.kafka.enabled && !env.KAFKA_BROKERS) {
    throw new ConfigError(
      `pipeline ${env.VIGIL_PIPELINE}: sources.kafka.enabled needs KAFKA_BROKERS (the cluster holding topic ${pipeline.sources.kafka.topic})`,
    );
  }
  return deepFreeze({
    env,
    pipeline,
    dataDir: path.resolve(env.VIGIL_DATA_DIR),
    mode: {
      bus: env.KAFKA_BROKERS ? 'kafka' : 'in-process',
      store: env.CLICKHOUSE_URL ? 'server' : 'embedded',
      queue: env.REDIS_URL ? 'bullmq' : 'in-process',
    },
  } satisfies Config);
}

export function loadPipeline(file: string): PipelineConfig {
  const resolved = resolvePipelinePath(file);
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(resolved, 'utf8'));
  } catch (err) {
    throw new ConfigError(`VIGIL_PIPELINE (${file}): cannot read YAML: ${(err as Error).message}`);
  }
  const result = pipelineSchema.safeParse(doc);
  if (!result.success) throw new ConfigError(formatZodError(`pipeline ${file}`, result.error));
  return result.data;
}

/** A relative pipeline path is looked up in the working directory, then in the installed package. */
function resolvePipelinePath(file: string): string {
  if (path.isAbsolute(file) || existsSync(file)) return file;
  const packaged = path.resolve(packageRoot(), file);
  if (existsSync(packaged)) return packaged;
  throw new ConfigError(`VIGIL_PIPELINE: file ${file} does not exist`);
}

function pickDefined(obj: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) out[k] = v;
  return out;
}

function deepFreeze<T>(obj: T): T {
  if (obj && typeof obj === 'object') {
    for (const v of Object.values(obj)) deepFreeze(v);
    Object.freeze(obj);
  }
  return obj;
}
