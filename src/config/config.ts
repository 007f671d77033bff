// Configuration: parsed once at start-up from env + the pipeline YAML, frozen, passed in.
// Keys equal their env var names. An error names the key and says what is wrong.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { type ZodError, z } from 'zod';
import { TENANT_NAME } from '../model/index.js';
import { duration } from './duration.js';
import { packageRoot } from './package-root.js';
import { type PipelineConfig, pipelineSchema } from './pipeline.js';
import { EXPORT_KINDS, parseKinds } from '../export/record.js';

// Every value is checked against what it may be, never guessed at: a switch is exactly
// true/false (or 1/0), a number is decimal digits, a choice is one of its listed values, and
// anything else refuses to start naming the variable. A typo must not quietly turn a switch off.
// A blank value (`VAR=` in a compose file) is the same as an unset one.

/** The spellings of a switch. `yes`, `on`, `enabled`, `TRUE`... are refused, not read as off. */
export const BOOLEAN_VALUES = ['true', 'false', '1', '0'] as const;
const bool = z
  .string()
  .trim()
  .pipe(z.enum(BOOLEAN_VALUES))
  .transform((v) => v === 'true' || v === '1');

/** A whole number in decimal digits; Number() would also take "0x10", "1e3" and "" (as 0). */
function int(min: number, max: number) {
  return z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number (decimal digits)')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
}
const port = int(0, 65535);
export const KAFKA_SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

/** Tenant names separated by commas; unset or empty: undefined (every tenant). */
const tenantList = optionalString.transform((v, ctx): readonly string[] | undefined => {
  if (v === undefined) return undefined;
  const names = v.split(',').map((t) => t.trim());
  if (!names.every((t) => TENANT_NAME.test(t))) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: 'must be tenant names separated by commas (each 1 to 128 of letters, digits and _ . : -)',
    });
    return z.NEVER;
  }
  return [...new Set(names)];
});

/** `host:port` (a bracketed IPv6 address for the host), the port from 1 to 65535. */
function isHostPort(v: string): boolean {
  const port = /^(?:\[[0-9A-Fa-f:.]+\]|[^\s,:[\]]+):(\d{1,5})$/.exec(v)?.[1];
  return Number(port) >= 1 && Number(port) <= 65535;
}

/** `host:port[,host:port...]`, as kafkajs takes them. */
const brokerList = z
  .string()
  .refine(
    (v) => v.split(',').every((b) => isHostPort(b.trim())),
    'must be a comma-separated list of host:port',
  );

function schemeOf(url: string | undefined): string | undefined {
  try {
    return url === undefined ? undefined : new URL(url).protocol;
  } catch {
    return undefined;
  }
}

/** A URL whose scheme is one of `schemes` (e.g. `redis:`, `rediss:`). */
function urlWith(...schemes: string[]) {
  return z
    .string()
    .refine(
      (v) => schemes.includes(schemeOf(v) ?? ''),
      `must be a URL starting with ${schemes.map((s) => `${s}//`).join(' or ')}`,
    );
}

export const envSchema = z
  .object({
    VIGIL_DATA_DIR: z.string().default('./.vigil'),
    VIGIL_PIPELINE: z.string().default('pipelines/default.yaml'),
    VIGIL_HOST: z.string().default('127.0.0.1'),
    VIGIL_COLLECTOR_PORT: port.default('8088'),
    VIGIL_ADMIN_PORT: port.default('8089'),
    VIGIL_OTLP_HTTP_PORT: port.default('4318'),
    VIGIL_OTLP_GRPC_PORT: port.default('4317'),
    VIGIL_ADMIN_TOKEN: optionalString,
    /** Log to this file instead of stderr. */
    VIGIL_LOG_FILE: optionalString,
    VIGIL_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    VIGIL_MAX_BODY_BYTES: int(1, 2 ** 31).default(String(16 * 1024 * 1024)),
    /** Events accepted but not yet durable, beyond which collectors answer 503 + Retry-After. */
    VIGIL_MAX_INFLIGHT_EVENTS: int(1, 100_000_000).default('200000'),
    /** Items (events, NDJSON lines, OTLP spans) one request may hold; more is refused whole (413). */
    VIGIL_MAX_ITEMS_PER_REQUEST: int(1, 10_000_000).default('50000'),
    /** OTLP: longest a database span without a user waits for an ancestor span naming one (0: no wait). */
    VIGIL_TRACE_IDENTITY_WAIT: duration
      .pipe(
        z
          .number()
          .max(10_000, 'must be at most 10s (OTLP exporters time out after 10 s by default)')
          .refine((ms) => ms === 0 || ms >= 100, 'must be 0 (no wait) or at least 100ms'),
      )
      .default('3s'),
    /** OTLP: spans the trace context holds in memory (least recently written traces go first). */
    VIGIL_TRACE_CONTEXT_MAX_SPANS: int(1_000, 100_000_000).default('200000'),
    /** OTLP: a trace's context is forgotten this long after its last span. */
    VIGIL_TRACE_CONTEXT_TTL: duration.pipe(z.number().min(1_000, 'must be at least 1s')).default('5m'),
    /** How often per-source figures (received, mapped, rejected, unused keys) are written to the store. */
    VIGIL_SOURCE_STATS_INTERVAL: duration.pipe(z.number().min(1_000, 'must be at least 1s')).default('10s'),
    /** Longest time to receive a whole request (headers and body) on every listener. */
    VIGIL_REQUEST_TIMEOUT: duration.pipe(z.number().min(1_000, 'must be at least 1s')).default('30s'),
    /** Refused credentials from one address within VIGIL_AUTH_FAILURE_WINDOW before it gets 429. */
    VIGIL_AUTH_FAILURE_LIMIT: int(1, 1_000_000_000).default('20'),
    /** The window refused credentials are counted in, and how long a throttled address waits. */
    VIGIL_AUTH_FAILURE_WINDOW: duration.pipe(z.number().min(1_000, 'must be at least 1s')).default('1m'),
    VIGIL_TOKEN_KEY: optionalString,
    VIGIL_TOKEN_KEY_VERSION: int(1, 999).default('1'),
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
    /** The token the CLI presents to a running vigil (default: the admin token); set, no direct store reads. */
    VIGIL_CLI_TOKEN: optionalString,
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
    OTEL_METRIC_EXPORT_INTERVAL: int(1_000, 86_400_000).default('60000'),
    VIGIL_EVENTS_TTL_DAYS: int(1, 36500).default('180'),
    VIGIL_WRITER_MAX_ROWS: int(1, 10_000_000).default('20000'),
    VIGIL_WRITER_MAX_AGE: duration.default('250ms'),
    VIGIL_WRITER_MAX_BUFFERED_ROWS: int(1, 100_000_000).default('200000'),
    /** Seal the audit chain's large batches on a worker thread (store/audit-chain/seal-worker.ts). */
    VIGIL_AUDIT_SEAL_THREAD: bool.default('false'),
    CLICKHOUSE_URL: optionalString.pipe(urlWith('http:', 'https:').optional()),
    CLICKHOUSE_USER: z.string().default('default'),
    CLICKHOUSE_PASSWORD: z.string().default(''),
    CLICKHOUSE_DATABASE: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a plain identifier')
      .default('vigil'),
    /** CA bundle (PEM) the server's certificate is checked against; unset: Node's public CAs. */
    CLICKHOUSE_TLS_CA_FILE: optionalString,
    /** Client certificate and key (PEM) for mutual TLS. */
    CLICKHOUSE_TLS_CERT_FILE: optionalString,
    CLICKHOUSE_TLS_KEY_FILE: optionalString,
    KAFKA_BROKERS: optionalString.pipe(brokerList.optional()),
    KAFKA_CLIENT_ID: z.string().default('vigil'),
    /** Prepended to topic and consumer-group names (isolation of tests and tenants of a shared cluster). */
    KAFKA_TOPIC_PREFIX: z.string().default(''),
    KAFKA_PARTITIONS: int(1, 1024).default('6'),
    /** Most events the bus packs into one Kafka record (1: a record per event, in the batch format). */
    KAFKA_RECORD_MAX_EVENTS: int(1, 10_000).default('500'),
    /** Most bytes of one Kafka record's value; an event larger than this gets a record alone. At most
     * 768 KiB: a produce request's bound, below the broker's default message.max.bytes of 1 MiB. */
    KAFKA_RECORD_MAX_BYTES: int(1_024, 768 * 1024).default(String(256 * 1024)),
    /** TLS to every broker; the certificate is always verified (there is no switch to skip it). */
    KAFKA_TLS: bool.default('false'),
    /** CA bundle (PEM) the brokers' certificates are checked against; unset: Node's public CAs. */
    KAFKA_TLS_CA_FILE: optionalString,
    /** Client certificate and key (PEM) for brokers that require mutual TLS. */
    KAFKA_TLS_CERT_FILE: optionalString,
    KAFKA_TLS_KEY_FILE: optionalString,
    /** SASL authentication; unset: none. */
    KAFKA_SASL_MECHANISM: optionalString.pipe(z.enum(KAFKA_SASL_MECHANISMS).optional()),
    KAFKA_SASL_USERNAME: optionalString,
    KAFKA_SASL_PASSWORD: optionalString,
    /** A file holding the SASL password (a mounted secret), instead of KAFKA_SASL_PASSWORD. */
    KAFKA_SASL_PASSWORD_FILE: optionalString,
    /** `redis://[:password@]host:port[/db]`, or `rediss://` for TLS. */
    REDIS_URL: optionalString.pipe(urlWith('redis:', 'rediss:').optional()),
    /** With `rediss://`: CA bundle (PEM) the server's certificate is checked against; unset: Node's public CAs. */
    REDIS_TLS_CA_FILE: optionalString,
    /** With `rediss://`: client certificate and key (PEM), for a server that requires them. */
    REDIS_TLS_CERT_FILE: optionalString,
    REDIS_TLS_KEY_FILE: optionalString,
    VIGIL_QUEUE_PREFIX: z.string().default('vigil'),
    VIGIL_DEMO_FAST: bool.optional(),
    /** On: every containment runs as a dry run, and no API call can turn it off. */
    VIGIL_RESPONDER_KILL_SWITCH: bool.default('false'),
    // SIEM export (src/export): a sink runs for each destination configured here.
    /** Record kinds streamed to the sinks: finding, incident, action, event. */
    VIGIL_EXPORT_KINDS: z
      .string()
      .default('finding,incident,action')
      .transform((v, ctx) => {
        try {
          return parseKinds(v);
        } catch {
          ctx.addIssue({
            code: z.ZodIssueCode.custom,
            message: `must be a comma-separated list of ${EXPORT_KINDS.join(', ')}`,
          });
          return z.NEVER;
        }
      }),
    /** Only these tenants' records, comma-separated (empty: every tenant). */
    VIGIL_EXPORT_TENANT: tenantList,
    VIGIL_EXPORT_INTERVAL: duration.default('5s'),
    VIGIL_EXPORT_BATCH_SIZE: int(1, 50_000).default('500'),
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
    if (env.VIGIL_TRACE_CONTEXT_TTL <= env.VIGIL_TRACE_IDENTITY_WAIT) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['VIGIL_TRACE_CONTEXT_TTL'],
        message:
          'must be longer than VIGIL_TRACE_IDENTITY_WAIT (a trace must outlive the wait for its spans)',
      });
    }
    if (Boolean(env.VIGIL_EXPORT_SPLUNK_URL) !== Boolean(env.VIGIL_EXPORT_SPLUNK_TOKEN)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['VIGIL_EXPORT_SPLUNK_TOKEN'],
        message: 'VIGIL_EXPORT_SPLUNK_URL and VIGIL_EXPORT_SPLUNK_TOKEN must be set together',
      });
    }
    if (env.VIGIL_EXPORT_SYSLOG_ADDRESS && !isHostPort(env.VIGIL_EXPORT_SYSLOG_ADDRESS)) {
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
    const issue = (key: keyof typeof env, message: string) =>
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: [key], message });
    const clickhouseTls = schemeOf(env.CLICKHOUSE_URL) === 'https:';
    for (const key of ['CLICKHOUSE_TLS_CA_FILE', 'CLICKHOUSE_TLS_CERT_FILE'] as const)
      if (env[key] && !clickhouseTls) issue(key, 'needs an https:// CLICKHOUSE_URL');
    if (env.CLICKHOUSE_TLS_CERT_FILE && !env.CLICKHOUSE_TLS_CA_FILE)
      issue('CLICKHOUSE_TLS_CERT_FILE', 'a client certificate needs CLICKHOUSE_TLS_CA_FILE too');

    // Kafka: a security setting that would not be used is a mistake, not a no-op.
    const kafkaKeys = [
      'KAFKA_TLS_CA_FILE',
      'KAFKA_TLS_CERT_FILE',
      'KAFKA_SASL_MECHANISM',
      'KAFKA_SASL_USERNAME',
      'KAFKA_SASL_PASSWORD',
      'KAFKA_SASL_PASSWORD_FILE',
    ] as const;
    if (!env.KAFKA_BROKERS)
      for (const key of [...kafkaKeys, 'KAFKA_TLS_KEY_FILE'] as const)
        if (env[key]) issue(key, 'needs KAFKA_BROKERS');
    if (env.KAFKA_TLS === false && env.KAFKA_BROKERS)
      for (const key of ['KAFKA_TLS_CA_FILE', 'KAFKA_TLS_CERT_FILE'] as const)
        if (env[key]) issue(key, 'needs KAFKA_TLS=true');
    if (Boolean(env.KAFKA_TLS_CERT_FILE) !== Boolean(env.KAFKA_TLS_KEY_FILE))
      issue('KAFKA_TLS_CERT_FILE', 'KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE must be set together');
    if (env.KAFKA_BROKERS) {
      if (env.KAFKA_SASL_MECHANISM) {
        if (!env.KAFKA_SASL_USERNAME) issue('KAFKA_SASL_USERNAME', `is needed by KAFKA_SASL_MECHANISM`);
        if (Boolean(env.KAFKA_SASL_PASSWORD) === Boolean(env.KAFKA_SASL_PASSWORD_FILE))
          issue('KAFKA_SASL_PASSWORD', 'set exactly one of KAFKA_SASL_PASSWORD and KAFKA_SASL_PASSWORD_FILE');
        if (env.KAFKA_SASL_MECHANISM === 'plain' && !env.KAFKA_TLS)
          issue('KAFKA_SASL_MECHANISM', 'plain sends the password as it is: it needs KAFKA_TLS=true');
      } else {
        for (const key of ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD', 'KAFKA_SASL_PASSWORD_FILE'] as const)
          if (env[key]) issue(key, 'needs KAFKA_SASL_MECHANISM (plain, scram-sha-256 or scram-sha-512)');
      }
    }

    const redisTls = schemeOf(env.REDIS_URL) === 'rediss:';
    for (const key of ['REDIS_TLS_CA_FILE', 'REDIS_TLS_CERT_FILE', 'REDIS_TLS_KEY_FILE'] as const)
      if (env[key] && !redisTls) issue(key, 'needs a rediss:// REDIS_URL');
    if (Boolean(env.REDIS_TLS_CERT_FILE) !== Boolean(env.REDIS_TLS_KEY_FILE))
      issue('REDIS_TLS_CERT_FILE', 'REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE must be set together');
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

/**
 * zod's own messages, except that a refused choice lists what is allowed without repeating what
 * was given (an error names the key and the reason, never the value: it may be a secret).
 */
export const configErrorMap: z.ZodErrorMap = (issue, ctx) =>
  issue.code === z.ZodIssueCode.invalid_enum_value
    ? { message: `must be one of ${issue.options.join(', ')}` }
    : { message: ctx.defaultError };

/** Parses env and the pipeline YAML once. Throws ConfigError naming every bad key. */
export function loadConfig(
  rawEnv: NodeJS.ProcessEnv = process.env,
  overrides: Partial<Record<keyof Env, string>> = {},
): Config {
  const envResult = envSchema.safeParse(pickDefined({ ...rawEnv, ...overrides }), {
    errorMap: configErrorMap,
  });
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
  return loadPipelineWith(file, pipelineSchema);
}

/**
 * Reads and checks a pipeline file against a schema built for other detector definitions
 * (`pipelineSchemaFor`: tests registering a detector of their own); same messages as loadPipeline.
 */
export function loadPipelineWith<T>(file: string, schema: z.ZodType<T, z.ZodTypeDef, unknown>): T {
  const resolved = resolvePipelinePath(file);
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(resolved, 'utf8'));
  } catch (err) {
    throw new ConfigError(`VIGIL_PIPELINE (${file}): cannot read YAML: ${(err as Error).message}`);
  }
  const result = schema.safeParse(doc, { errorMap: configErrorMap });
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

/** The variables that are set; a blank one counts as unset (`VAR=` in a compose file). */
function pickDefined(obj: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj)) if (v !== undefined && v.trim() !== '') out[k] = v;
  return out;
}

function deepFreeze<T>(obj: T): T {
  if (obj && typeof obj === 'object') {
    for (const v of Object.values(obj)) deepFreeze(v);
    Object.freeze(obj);
  }
  return obj;
}
