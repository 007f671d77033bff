// What every role of a process shares, opened in this order before any role starts: the
// connections (parsed once), the credentials, logs, metrics and vigil's own telemetry, the store
// (migrated), tokenization and re-identification, the stage bus, the chained writers and intake.
import type { ReidentifyDeps } from '../../admin/reidentify.js';
import type { Bus } from '../../bus/index.js';
import { createIngest, type Ingest } from '../../collectors/ingest.js';
import {
  type Config,
  ConfigError,
  ensurePrivateDir,
  type KafkaConnection,
  kafkaConnection,
  type RedisConnection,
  redisConnection,
} from '../../config/index.js';
import { productVersion } from '../../export/product.js';
import { errorMessage } from '../../model/index.js';
import type { Tokenizer } from '../../privacy/index.js';
import type { StoreHandle } from '../../store/index.js';
import {
  createLogger,
  createMetrics,
  instrumentIngest,
  type Logger,
  type Metrics,
  startTelemetry,
  type Telemetry,
} from '../../telemetry/index.js';
import { type Credentials, credentialsFromConfig } from '../credentials.js';
import type { Role } from '../roles.js';
import { type BusErrorHandler, openStageBus } from './bus.js';
import { loadTokenKeys, wirePrivacy } from './privacy.js';
import { adminTokens } from './secrets.js';
import { createStoreWriters, openInstrumentedStore, type StoreWriters } from './store.js';

export interface Shared {
  /** KAFKA_BROKERS parsed: the stage bus and the Kafka source; undefined: the in-process bus. */
  readonly kafka: KafkaConnection | undefined;
  /** REDIS_URL parsed: the action queue and guardrails; undefined: in memory. */
  readonly redis: RedisConnection | undefined;
  readonly adminTokens: string[];
  readonly credentials: Credentials;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly telemetry: Telemetry;
  readonly store: StoreHandle;
  readonly tokenizer: Tokenizer;
  readonly reidentify: ReidentifyDeps;
  readonly onBusError: BusErrorHandler;
  readonly bus: Bus;
  readonly writers: StoreWriters;
  readonly ingest: Ingest;
}

export async function openShared(
  config: Config,
  roles: ReadonlySet<Role>,
  env: NodeJS.ProcessEnv,
  logger?: Logger,
): Promise<Shared> {
  const kafka = kafkaConnection(config.env);
  const redis = redisConnection(config.env);
  // On the in-process bus the roles share one process: a collector without the store there would
  // answer 2xx for events nothing stores. Splitting the roles across processes needs Kafka.
  if (roles.has('collector') && !roles.has('store') && !kafka)
    throw new ConfigError(
      '--roles: collector without store needs KAFKA_BROKERS (on the in-process bus, events the collector acknowledges would reach no store)',
    );
  // Keys, chain heads and the embedded store live here: owner-only, made so before anything in it.
  ensurePrivateDir(config.dataDir, 'VIGIL_DATA_DIR');
  // Before anything opens: a credential configured wrong refuses the start (ConfigError).
  const tokens = adminTokens(config);
  // Each source and analyst credential with the tenants it may use (pipeline `tenancy`).
  const credentials = credentialsFromConfig(config, env, tokens);
  const log = logger ?? createLogger(config.env.VIGIL_LOG_LEVEL, 'vigil', config.env.VIGIL_LOG_FILE);
  const metrics = createMetrics();
  const telemetry = await startOwnTelemetry(config, roles, metrics);
  const keyRing = loadTokenKeys(config, log);
  const store = await openInstrumentedStore(config, telemetry, metrics);
  const { tokenizer, reidentify } = wirePrivacy({ config, keyRing, store: store.client, logger: log });
  const onBusError: BusErrorHandler = (where, err) =>
    log.warn({ where, err: errorMessage(err) }, 'bus error, retrying');
  const bus = await openStageBus({ kafka, env: config.env, telemetry, metrics, onError: onBusError });
  const writers = createStoreWriters({ config, store, logger: log, telemetry, metrics });
  const ingest = instrumentIngest(
    createIngest({
      bus,
      maxInflight: config.env.VIGIL_MAX_INFLIGHT_EVENTS,
      previousToken: tokenizer.previousOf,
    }),
    telemetry,
    metrics,
  );
  return {
    kafka,
    redis,
    adminTokens: tokens,
    credentials,
    logger: log,
    metrics,
    telemetry,
    store,
    tokenizer,
    reidentify,
    onBusError,
    bus,
    writers,
    ingest,
  };
}

/** vigil's own traces and metrics over OTLP (a no-op unless OTEL_EXPORTER_OTLP_ENDPOINT is set). */
async function startOwnTelemetry(
  config: Config,
  roles: ReadonlySet<Role>,
  metrics: Metrics,
): Promise<Telemetry> {
  const telemetry = await startTelemetry({
    endpoint: config.env.OTEL_EXPORTER_OTLP_ENDPOINT,
    serviceName: config.env.OTEL_SERVICE_NAME,
    serviceVersion: productVersion(),
    roles: [...roles],
    metricIntervalMs: config.env.OTEL_METRIC_EXPORT_INTERVAL,
  });
  metrics.forward(telemetry.metricsSink);
  return telemetry;
}
