// Wiring: the only place (with the test harness) where transports meet stages. Builds the bus,
// store, queue and servers the configuration asks for and starts the requested roles.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createDetectors } from '../../detectors/index.js';
import {
  type Bus,
  createInProcessBus,
  createKafkaBus,
  kafkaClientOptions,
  type Subscription,
} from '../bus/index.js';
import { createSourceAuth, splitTokens } from '../collectors/auth.js';
import { createAuthFailures } from '../collectors/auth-failures.js';
import { BEARER_SOURCES, type BearerSource, credentialsFromConfig } from './credentials.js';
import { registerGenericRoutes } from '../collectors/generic/server.js';
import { createHoopPoller, type HoopPoller } from '../collectors/hoop/poller.js';
import { registerHoopRoutes } from '../collectors/hoop/server.js';
import { recordRefusal, refuse, refuseThrottled } from '../collectors/http/authenticate.js';
import { createHttpServer } from '../collectors/http/server.js';
import { tlsFromEnv } from '../collectors/http/tls.js';
import type { CollectorDeps } from '../collectors/deps.js';
import { decoderFor } from '../collectors/decoders.js';
import { type ExportSinkRunner, sinksFromEnv, startExportSink } from '../export/index.js';
import { createIngest, type Ingest } from '../collectors/ingest.js';
import { startKafkaSource } from '../collectors/kafka/source.js';
import { registerTeleportRoutes } from '../collectors/teleport/server.js';
import { DEFAULT_TENANT } from '../collectors/tenant.js';
import { grpcCredentials, startOtlpGrpcServer } from '../collectors/otlp/grpc.server.js';
import { registerOtlpHttpRoutes } from '../collectors/otlp/server.js';
import { wireSources } from './sources.wiring.js';
import { ADMIN_ROLES, registerAdminRoutes } from '../admin/server.js';
import { recordServeAddress } from './serve-address.js';
import { registerClickHouseHttpRoutes, servesClickHouseHttp } from '../admin/clickhouse-http.js';
import { productVersion } from '../export/product.js';
import {
  type Config,
  ConfigError,
  ensurePrivateDir,
  kafkaConnection,
  redisConnection,
} from '../config/index.js';
import {
  backtest,
  createDetectorRuntime,
  createFindingFilter,
  type DetectorRuntime,
  decodeState,
  encodeState,
  HELD_EVENTS_CHECKPOINT,
  startDetectStage,
} from '../detect/index.js';
import { type AccessEvent, type Action, errorMessage, type Finding } from '../model/index.js';
import {
  createTokenizer,
  createVaultCipher,
  decodeKey,
  loadKeyRing,
  loadOrCreateSecret,
  rotateKeyRing,
  type Tokenizer,
  type VaultRow,
} from '../privacy/index.js';
import { type ActionQueue, startRespondStage, type WebhookTarget } from '../respond/index.js';
import { type RespondWiring, startRespond } from './respond.wiring.js';
import {
  actionRow,
  type BatchedWriter,
  createBatchedWriter,
  eventRow,
  findingRow,
  findVaultRow,
  insertRows,
  loadCheckpoints,
  loadCheckpointsFor,
  loadFeedback,
  readEvents,
  recordFeedback,
  recordAudit,
  saveCheckpoints,
  incidentRow,
  migrate,
  openStore,
  type StoreHandle,
  startStoreStage,
  identityHistory,
} from '../store/index.js';
import { createAuditChain, verifyAuditTrail } from '../store/audit-chain/index.js';
import {
  createLogger,
  createMetrics,
  createProcessCollector,
  createReadiness,
  createRedisProbe,
  instrumentBus,
  instrumentIngest,
  instrumentStoreClient,
  type Logger,
  type Metrics,
  observeActions,
  observeFindings,
  renderPrometheus,
  startTelemetry,
  tapWrites,
} from '../telemetry/index.js';
import { ALL_ROLES, type Role } from './roles.js';

/** How far back a detector reads the rollup to start an identity warm (the baselines' memory). */
const BOOTSTRAP_LOOKBACK_MS = 21 * 86_400_000;
/** Detector states encoded and inserted at a time by a checkpoint (tens of ms of encoding). */
const CHECKPOINT_SLICE = 5_000;

export { ALL_ROLES, type Role };

export interface RunningVigil {
  readonly config: Config;
  readonly store: StoreHandle;
  readonly bus: Bus;
  readonly queue?: ActionQueue;
  readonly runtime?: DetectorRuntime;
  readonly tokenizer: Tokenizer;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly ingest: Ingest;
  /** Gateway events (generic, hoop.dev, Teleport). */
  readonly collectorUrl?: string;
  readonly otlpHttpUrl?: string;
  /** host:port of the OTLP gRPC listener. */
  readonly otlpGrpcAddress?: string;
  /** First bearer token of each source (tests and the demo post with them); '' when it has none. */
  readonly sourceTokens: Record<BearerSource, string>;
  readonly adminUrl: string;
  readonly sourceToken: string;
  readonly adminToken: string;
  readonly writers: { events: BatchedWriter<AccessEvent>; findings: BatchedWriter<Finding> };
  /** Every route of every HTTP listener (collected by an onRoute hook), for the security tests. */
  readonly routes: ReadonlyArray<HttpRoute>;
  stop(): Promise<void>;
}

export interface HttpRoute {
  readonly listener: 'gateway' | 'otlp' | 'admin';
  readonly method: string;
  readonly url: string;
  /** Admin roles allowed (route option); undefined: every role of the listener. */
  readonly roles?: readonly string[];
}

export interface StartOptions {
  readonly roles?: readonly Role[];
  readonly logger?: Logger;
  /** Called for findings as the detect stage publishes them. */
  readonly onFindings?: (findings: Finding[]) => void;
}

const newToken = () => randomBytes(24).toString('base64url');
export const newWebhookSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

export { BEARER_SOURCES, type BearerSource } from './credentials.js';

export function adminTokens(config: Config): string[] {
  const fromEnv = splitTokens(config.env.VIGIL_ADMIN_TOKEN);
  return fromEnv.length ? fromEnv : [loadOrCreateSecret(config.dataDir, 'admin.token', newToken).value];
}

/** The vault's own key: VIGIL_VAULT_KEY, else generated once under $VIGIL_DATA_DIR/keys/vault.key. */
export function vaultKey(config: Config): Buffer {
  const raw =
    config.env.VIGIL_VAULT_KEY ??
    loadOrCreateSecret(config.dataDir, 'vault.key', () => randomBytes(32).toString('base64')).value;
  const key = decodeKey(raw, 'VIGIL_VAULT_KEY');
  return key.subarray(0, 32);
}

/**
 * The audit chain's identity: its id (one chain per store process) and its HMAC key, both kept
 * under $VIGIL_DATA_DIR/keys and never written to ClickHouse.
 */
export function chainIdentity(config: Config): { chain: string; key: Buffer } {
  const chain = loadOrCreateSecret(config.dataDir, 'chain.id', () => randomBytes(6).toString('hex')).value;
  const key = loadOrCreateSecret(config.dataDir, 'chain.key', () => randomBytes(32).toString('base64')).value;
  return { chain, key: Buffer.from(key, 'base64') };
}

function webhookTargets(config: Config, env: NodeJS.ProcessEnv): Array<WebhookTarget | undefined> {
  return config.pipeline.response.actions.map((a) => {
    const url = env[a.url_env];
    if (!url) return undefined;
    const secrets = splitTokens(env[a.secret_env]).length
      ? splitTokens(env[a.secret_env]).flatMap((s) => s.split(' '))
      : [loadOrCreateSecret(config.dataDir, 'webhook.secret', newWebhookSecret).value];
    return { url, secrets, timeoutMs: a.timeout };
  });
}

export async function startVigil(
  config: Config,
  opts: StartOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningVigil> {
  const roles = new Set(opts.roles ?? ALL_ROLES);
  // On the in-process bus the roles share one process: a collector without the store there would
  // answer 2xx for events nothing stores. Splitting the roles across processes needs Kafka.
  if (roles.has('collector') && !roles.has('store') && !kafkaConnection(config.env))
    throw new ConfigError(
      '--roles: collector without store needs KAFKA_BROKERS (on the in-process bus, events the collector acknowledges would reach no store)',
    );
  // Keys, chain heads and the embedded store live here: owner-only, made so before anything in it.
  ensurePrivateDir(config.dataDir, 'VIGIL_DATA_DIR');
  // Before anything opens: a credential configured wrong refuses the start (ConfigError).
  const tokens = adminTokens(config);
  // Each source and analyst credential with the tenants it may use (pipeline `tenancy`).
  const credentials = credentialsFromConfig(config, env, tokens);
  const logger = opts.logger ?? createLogger(config.env.VIGIL_LOG_LEVEL, 'vigil', config.env.VIGIL_LOG_FILE);
  const metrics = createMetrics();
  // vigil's own traces and metrics over OTLP (a no-op unless OTEL_EXPORTER_OTLP_ENDPOINT is set).
  const telemetry = await startTelemetry({
    endpoint: config.env.OTEL_EXPORTER_OTLP_ENDPOINT,
    serviceName: config.env.OTEL_SERVICE_NAME,
    serviceVersion: productVersion(),
    roles: [...roles],
    metricIntervalMs: config.env.OTEL_METRIC_EXPORT_INTERVAL,
  });
  metrics.forward(telemetry.metricsSink);
  const keyRing = loadKeyRing({
    dataDir: config.dataDir,
    envKey: config.env.VIGIL_TOKEN_KEY,
    envVersion: config.env.VIGIL_TOKEN_KEY_VERSION,
    envPreviousKey: config.env.VIGIL_TOKEN_KEY_PREVIOUS,
  });
  if (keyRing.created)
    logger.warn(
      { dir: `${config.dataDir}/keys` },
      'no VIGIL_TOKEN_KEY set: created a tokenization key (mode 0600); back it up',
    );
  const opened = await openStore(config.env, config.dataDir);
  const store: StoreHandle = { ...opened, client: instrumentStoreClient(opened.client, telemetry, metrics) };
  await migrate(store.client, { eventsTtlDays: config.env.VIGIL_EVENTS_TTL_DAYS });

  // The vault is written at the edge, when a token is first made for a raw value.
  const vaultCipher = config.env.VIGIL_VAULT_ENABLED ? createVaultCipher(vaultKey(config)) : undefined;
  const vaultWriter = vaultCipher
    ? createBatchedWriter<VaultRow>({
        client: store.client,
        table: 'vault',
        toRow: (r) => ({ ...r }),
        dedupKey: (r) => r.token,
        maxAgeMs: 500,
      })
    : undefined;
  const tokenizer = createTokenizer(keyRing.current, {
    previous: keyRing.previous,
    queryText: config.env.VIGIL_QUERY_TEXT,
    onNewToken: vaultWriter
      ? (entry) => {
          // Fire and forget is safe here: a lost vault row is re-made the next time the value is seen.
          vaultWriter
            .write([vaultCipher!.seal(entry)])
            .catch((err) => logger.error({ err: errorMessage(err) }, 'vault write failed'));
        }
      : undefined,
  });

  const kafka = kafkaConnection(config.env);
  const redis = redisConnection(config.env);
  const onBusError = (where: string, err: unknown) =>
    logger.warn({ where, err: errorMessage(err) }, 'bus error, retrying');
  const bus: Bus = instrumentBus(
    kafka
      ? await createKafkaBus({
          ...kafkaClientOptions(kafka),
          clientId: config.env.KAFKA_CLIENT_ID,
          prefix: config.env.KAFKA_TOPIC_PREFIX,
          partitions: config.env.KAFKA_PARTITIONS,
          onError: onBusError,
        })
      : createInProcessBus({ onError: onBusError }),
    telemetry,
    metrics,
  );

  const identity = chainIdentity(config);
  // Every stored batch of events, findings, incidents and actions is chained (tamper evidence).
  const chained = (table: string) => ({
    table,
    chain: createAuditChain({
      client: store.client,
      table,
      dataDir: config.dataDir,
      ...identity,
      onError: (err, attempt) =>
        logger.warn({ table, err: errorMessage(err), attempt }, 'audit chain append failed, retrying'),
      onWarning: (message) => logger.warn({ table }, message),
    }),
  });
  const writerDefaults = {
    client: store.client,
    maxRows: config.env.VIGIL_WRITER_MAX_ROWS,
    maxAgeMs: config.env.VIGIL_WRITER_MAX_AGE,
    maxBufferedRows: config.env.VIGIL_WRITER_MAX_BUFFERED_ROWS,
    onError: (err: unknown, attempt: number) =>
      logger.warn({ err: errorMessage(err), attempt }, 'store insert failed, retrying'),
  };
  const writers = {
    events: createBatchedWriter<AccessEvent>({
      ...writerDefaults,
      ...chained('events'),
      toRow: eventRow,
      dedupKey: (e) => e.event_id,
    }),
    // A finding may be re-issued under the same id with higher numbers: dedup on id + observed.
    findings: createBatchedWriter<Finding>({
      ...writerDefaults,
      ...chained('findings'),
      // Few rows, and each is waited for: the detect stage commits a batch once its findings are
      // stored (in-process), and detection latency runs until the finding is stored.
      maxAgeMs: Math.min(50, config.env.VIGIL_WRITER_MAX_AGE),
      toRow: findingRow,
      dedupKey: (f) => `${f.finding_id}/${f.observed}`,
    }),
  };
  const incidentWriter = createBatchedWriter({
    ...writerDefaults,
    ...chained('incidents'),
    toRow: incidentRow,
    maxAgeMs: 50,
  });
  const actionWriter = tapWrites(
    createBatchedWriter<Action>({
      ...writerDefaults,
      ...chained('actions'),
      toRow: actionRow,
      maxAgeMs: 50,
    }),
    (actions) => observeActions(actions, telemetry, metrics),
  );

  const subscriptions: Subscription[] = [];
  /** Intake that is not a fastify instance (gRPC, the Kafka source, pollers), closed with the servers. */
  const closers: Array<() => Promise<void>> = [];
  const ingest = instrumentIngest(
    createIngest({
      bus,
      maxInflight: config.env.VIGIL_MAX_INFLIGHT_EVENTS,
      previousToken: tokenizer.previousOf,
    }),
    telemetry,
    metrics,
  );
  if (roles.has('store'))
    subscriptions.push(
      ...(await startStoreStage({ bus, events: writers.events, findings: writers.findings })),
    );

  let runtime: DetectorRuntime | undefined;
  const findingFilter = createFindingFilter(config.pipeline.suppressions, config.pipeline.feedback_ttl);
  if (roles.has('detect')) {
    runtime = createDetectorRuntime(createDetectors(config.pipeline), {
      maxHotEntities: config.pipeline.detection.max_hot_entities,
    });
    subscriptions.push(
      await startDetectStage({
        bus,
        runtime,
        metrics,
        allowedLatenessMs: config.pipeline.detection.allowed_lateness,
        onFindings: (findings) => {
          observeFindings(findings, metrics);
          opts.onFindings?.(findings);
        },
        checkpoints: {
          // A slice is encoded, then inserted, before the next: encoding every changed state at once
          // (~100k at 10k identities) held the event loop for most of a second per checkpoint, a
          // spike in detection latency every interval.
          save: async (entries) => {
            for (let i = 0; i < entries.length; i += CHECKPOINT_SLICE)
              await saveCheckpoints(
                store.client,
                entries
                  .slice(i, i + CHECKPOINT_SLICE)
                  .map((e) => ({ detector: e.detector, entity_key: e.key, state: encodeState(e.state) })),
              );
          },
          // With the events the reorder buffer held (allowed lateness), checkpointed as a pseudo-detector.
          load: async () =>
            (
              await loadCheckpoints(store.client, [
                ...Object.keys(runtime!.entities()),
                HELD_EVENTS_CHECKPOINT,
              ])
            ).map((r) => ({
              detector: r.detector,
              key: r.entity_key,
              state: decodeState(r.state),
            })),
          loadKeys: async (keys) =>
            (await loadCheckpointsFor(store.client, Object.keys(runtime!.entities()), keys)).map((r) => ({
              detector: r.detector,
              key: r.entity_key,
              state: decodeState(r.state),
            })),
        },
        onError: (err) => logger.warn({ err: errorMessage(err) }, 'checkpoint failed, will retry'),
        filter: findingFilter,
        history: (tenant, identities) =>
          identityHistory(store.client, {
            tenant,
            identities,
            windowMs: config.pipeline.detectors['volume-spike'].window,
            lookbackMs: BOOTSTRAP_LOOKBACK_MS,
          }),
      }),
    );
    // Feedback given through another process's admin API reaches this detector by polling.
    let feedbackSince = Date.now() - config.pipeline.feedback_ttl;
    const pollFeedback = async () => {
      const entries = await loadFeedback(store.client, feedbackSince);
      if (entries.length) feedbackSince = entries[entries.length - 1]!.time + 1;
      findingFilter.addFeedback(entries);
    };
    await pollFeedback();
    const feedbackTimer = setInterval(
      () => pollFeedback().catch((err) => logger.warn({ err: errorMessage(err) }, 'feedback poll failed')),
      15_000,
    );
    feedbackTimer.unref();
    closers.push(async () => clearInterval(feedbackTimer));
  }

  let queue: ActionQueue | undefined;
  let respond: RespondWiring | undefined;
  if (roles.has('respond')) {
    respond = await startRespond({
      config,
      env,
      store: store.client,
      logger,
      metrics,
      incidents: incidentWriter,
      actions: actionWriter,
      findings: writers.findings,
      reidentify: {
        cipher: vaultCipher,
        lookup: async (token) => {
          await vaultWriter?.flush();
          return findVaultRow(store.client, token);
        },
        audit: (record) => recordAudit(store.client, record),
      },
      webhookTargets: webhookTargets(config, env),
      defaultWebhookSecrets: () => [
        loadOrCreateSecret(config.dataDir, 'webhook.secret', newWebhookSecret).value,
      ],
    });
    queue = respond.queue;
    subscriptions.push(await startRespondStage(bus, respond.responder));
  }

  // SIEM sinks: each polls the store past its own checkpoint (at-least-once).
  const exporters: ExportSinkRunner[] = [];
  if (roles.has('export')) {
    for (const sink of sinksFromEnv(config.env)) {
      exporters.push(
        await startExportSink({
          client: store.client,
          sink,
          kinds: config.env.VIGIL_EXPORT_KINDS,
          intervalMs: config.env.VIGIL_EXPORT_INTERVAL,
          tenant: config.env.VIGIL_EXPORT_TENANT,
          batchSize: config.env.VIGIL_EXPORT_BATCH_SIZE,
          onError: (err) =>
            logger.warn({ sink: sink.name, err: errorMessage(err) }, 'export failed, will retry'),
          onRejected: (rejected) =>
            logger.warn(
              { sink: sink.name, rejected: rejected.length },
              'SIEM refused records (dead-lettered)',
            ),
        }),
      );
    }
  }

  const servers: FastifyInstance[] = [];
  const host = config.env.VIGIL_HOST;
  const auth = createSourceAuth({ ...credentials.sources, admin: tokens, analyst: credentials.analysts });
  const tls = tlsFromEnv(config.env);
  const scheme = tls ? 'https' : 'http';
  // One record of refused credentials for every listener: an address refused on one is throttled
  // on all. Addresses appear in logs only as tokens.
  const authFailures = createAuthFailures({
    limit: config.env.VIGIL_AUTH_FAILURE_LIMIT,
    windowMs: config.env.VIGIL_AUTH_FAILURE_WINDOW,
    metrics,
    logger,
    tokenizeAddress: (address) => tokenizer.address(DEFAULT_TENANT, address).src_ip,
  });
  // OTLP users carried across traces, and what each source sent and what became of it.
  const sourcesWiring = wireSources({ env: config.env, store: store.client, tokenizer, metrics, logger });
  closers.push(async () => sourcesWiring.releaseHeld());
  const collectorDeps: CollectorDeps = {
    auth,
    authFailures,
    ingest,
    tokenizer,
    metrics,
    logger,
    maxBodyBytes: config.env.VIGIL_MAX_BODY_BYTES,
    maxItemsPerRequest: config.env.VIGIL_MAX_ITEMS_PER_REQUEST,
    retentionDays: config.env.VIGIL_EVENTS_TTL_DAYS,
    traceIdentity: sourcesWiring.traceIdentity,
    sourceStats: sourcesWiring.sourceStats,
  };
  const urls: { collector?: string; otlpHttp?: string; otlpGrpc?: string } = {};
  const routes: HttpRoute[] = [];
  /** A listener whose routes are recorded; on a collector listener an unknown route answers 401
   * to a caller without a valid credential, so the route map is not disclosed to strangers. */
  const httpServer = (listener: 'gateway' | 'otlp' | 'admin') => {
    const app = createHttpServer({
      logger,
      maxBodyBytes: config.env.VIGIL_MAX_BODY_BYTES,
      tls,
      requestTimeoutMs: config.env.VIGIL_REQUEST_TIMEOUT,
      authFailures,
    });
    app.addHook('onRoute', (r) => {
      const roles = (r.config as { roles?: string[] } | undefined)?.roles;
      for (const method of [r.method].flat()) routes.push({ listener, method, url: r.url, roles });
    });
    if (listener !== 'admin') {
      // Unknown routes: authenticated before any body is read, like the known ones.
      app.addHook('onRequest', async (req, reply) => {
        if (!req.is404) return;
        if (refuseThrottled(authFailures, 'unknown_route', req, reply)) return reply;
        const r = auth.check(req.headers.authorization, [...BEARER_SOURCES, ...ADMIN_ROLES]);
        if (!r.ok) {
          recordRefusal(authFailures, 'unknown_route', r.refusal, req);
          return refuse(reply, { status: 401, message: r.reason });
        }
      });
      app.setNotFoundHandler(async (_req, reply) => reply.code(404).send({ error: 'no such route' }));
    }
    return app;
  };
  const listen = async (app: FastifyInstance, port: number) => {
    await app.listen({ host, port });
    servers.push(app);
    return `${scheme}://${host}:${(app.server.address() as AddressInfo).port}`;
  };
  if (roles.has('collector')) {
    const sources = config.pipeline.sources;
    // Gateway events: generic, hoop.dev and Teleport share the gateway port.
    const gateway = httpServer('gateway');
    if (sources.generic.enabled) registerGenericRoutes(gateway, collectorDeps);
    // [gateway wiring: hoop + teleport routes are registered here]
    let hoopPoller: HoopPoller | undefined;
    if (sources.hoop.enabled) {
      const hoop = sources.hoop;
      // Svix signatures are hoop.dev's only credential: no secret, no route (never an open endpoint).
      const webhookSecrets = credentials.hoopSecrets;
      if (webhookSecrets.length) registerHoopRoutes(gateway, { ...collectorDeps, webhookSecrets });
      else
        logger.info(
          { env: hoop.webhook_secret_env },
          'hoop.dev webhooks are off: no signing secret configured',
        );
      const apiUrl = env[hoop.api_url_env]?.trim();
      const apiToken = env[hoop.api_token_env]?.trim();
      if (apiUrl && apiToken) {
        hoopPoller = createHoopPoller({
          apiUrl,
          apiToken,
          intervalMs: hoop.poll_interval,
          tenant: DEFAULT_TENANT,
          deps: collectorDeps,
        });
        closers.push(() => hoopPoller!.stop());
      } else if (apiUrl || apiToken)
        logger.warn(
          { url: hoop.api_url_env, token: hoop.api_token_env },
          'hoop.dev sessions poller is off: it needs both the API URL and the API token',
        );
    }
    if (sources.teleport.enabled) registerTeleportRoutes(gateway, collectorDeps);
    urls.collector = await listen(gateway, config.env.VIGIL_COLLECTOR_PORT);
    hoopPoller?.start();
    // [otlp wiring: OTLP/HTTP listener on VIGIL_OTLP_HTTP_PORT and gRPC on VIGIL_OTLP_GRPC_PORT]
    if (sources.otlp.enabled) {
      const otlpHttp = httpServer('otlp');
      registerOtlpHttpRoutes(otlpHttp, collectorDeps);
      urls.otlpHttp = await listen(otlpHttp, config.env.VIGIL_OTLP_HTTP_PORT);
      const grpc = await startOtlpGrpcServer({
        ...collectorDeps,
        requestTimeoutMs: config.env.VIGIL_REQUEST_TIMEOUT,
        host,
        port: config.env.VIGIL_OTLP_GRPC_PORT,
        credentials: grpcCredentials(tls),
        clientAllowList: tls?.allow,
      });
      closers.push(grpc.close);
      urls.otlpGrpc = grpc.address;
    }
    if (sources.kafka.enabled && kafka) {
      // The source topic lives on the operator's cluster under its own name: no prefix.
      const sourceBus = await createKafkaBus({
        ...kafkaClientOptions(kafka),
        clientId: `${config.env.KAFKA_CLIENT_ID}-source`,
        prefix: '',
        partitions: config.env.KAFKA_PARTITIONS,
        onError: onBusError,
      });
      const sourceSub = await startKafkaSource({
        ...collectorDeps,
        bus: sourceBus,
        topic: sources.kafka.topic,
        group: `${config.env.KAFKA_TOPIC_PREFIX}${sources.kafka.group}`,
        decode: decoderFor(sources.kafka.format, collectorDeps),
        recordRejected: (reason, digest) =>
          insertRows(store.client, 'dead_letters', [
            { target: `source:${sources.kafka.topic}`, reason, row: `sha256:${digest}` },
          ]),
      });
      closers.push(async () => {
        await sourceSub.stop();
        await sourceBus.close();
      });
    }
  }
  const admin = httpServer('admin');
  // Readiness from the real dependencies: the store answers, the bus is connected with its
  // consumers alive, and (for the responder) Redis answers. The queue lives in src/respond; its
  // Redis is probed on a connection of its own.
  const redisProbe = roles.has('respond') && redis ? createRedisProbe(redis.url, redis.tls) : undefined;
  const readiness = createReadiness({
    store: async () => (await store.client.ping()).success,
    bus: bus.ready ? () => bus.ready!() : undefined,
    redis: redisProbe ? () => redisProbe.ping() : undefined,
  });
  const processMetrics = createProcessCollector();
  closers.push(async () => processMetrics.stop());
  if (redisProbe) closers.push(() => redisProbe.close());
  registerAdminRoutes(admin, {
    auth,
    authFailures,
    maxItemsPerRequest: config.env.VIGIL_MAX_ITEMS_PER_REQUEST,
    retentionDays: config.env.VIGIL_EVENTS_TTL_DAYS,
    store: store.client,
    ingest,
    tokenizer,
    metrics,
    logger,
    maxBodyBytes: config.env.VIGIL_MAX_BODY_BYTES,
    ready: readiness,
    prometheus: () =>
      renderPrometheus(metrics, {
        process: processMetrics,
        gauges: { ingest_inflight_events: ingest.inflight() },
      }),
    reidentify: {
      cipher: vaultCipher,
      lookup: async (token) => {
        await vaultWriter?.flush();
        return findVaultRow(store.client, token);
      },
      audit: (record) => recordAudit(store.client, record),
    },
    feedback: async (req) => {
      const entry = await recordFeedback(store.client, req);
      if (entry) findingFilter.addFeedback([entry]);
      return entry;
    },
    responder: respond?.control,
    sources: (o) => sourcesWiring.report(o),
    // Lifecycle changes without a responder here: chained like the responder's own writes.
    saveIncident: (incident) => incidentWriter.write([incident]),
    // Flushed first: a batch still in a writer is neither in the store nor in the chain.
    verify: async ({ since }) => {
      await Promise.all([
        writers.events.flush(),
        writers.findings.flush(),
        incidentWriter.flush(),
        actionWriter.flush(),
      ]);
      return verifyAuditTrail({ client: store.client, dataDir: config.dataDir, ...identity, since });
    },
    backtest: (o) =>
      backtest(createDetectors(config.pipeline), readEvents(store.client, o), {
        maxHotEntities: config.pipeline.detection.max_hot_entities,
      }),
    rotateKey: config.env.VIGIL_TOKEN_KEY
      ? undefined
      : () => {
          rotateKeyRing(config.dataDir);
          const ring = loadKeyRing({ dataDir: config.dataDir, envVersion: 1 });
          tokenizer.rotate(ring.current);
          logger.warn({ version: ring.current.version }, 'tokenization key rotated');
          return { version: ring.current.version };
        },
  });
  // Grafana's way into the embedded store: read-only ClickHouse HTTP under /clickhouse. Not served
  // with a ClickHouse server (Grafana reads that as its own read-only user).
  if (servesClickHouseHttp(config.env))
    registerClickHouseHttpRoutes(admin, {
      auth,
      authFailures,
      store: store.client,
      database: store.database,
      logger,
      metrics,
      maxBodyBytes: config.env.VIGIL_MAX_BODY_BYTES,
    });
  const adminUrl = await listen(admin, config.env.VIGIL_ADMIN_PORT);
  // The CLI of this data directory finds this process here (src/cli/serve-address.ts).
  const forgetServeAddress = recordServeAddress(config.dataDir, adminUrl);
  logger.info(
    { roles: [...roles], bus: bus.kind, store: store.kind, queue: queue?.kind, ...urls, adminUrl },
    'vigil started',
  );

  let stopped = false;
  return {
    config,
    store,
    bus,
    queue,
    runtime,
    tokenizer,
    metrics,
    logger,
    ingest,
    collectorUrl: urls.collector,
    otlpHttpUrl: urls.otlpHttp,
    otlpGrpcAddress: urls.otlpGrpc,
    adminUrl,
    sourceToken: credentials.sources.generic[0]?.token ?? '',
    sourceTokens: Object.fromEntries(
      BEARER_SOURCES.map((s) => [s, credentials.sources[s][0]?.token ?? '']),
    ) as Record<BearerSource, string>,
    adminToken: tokens[0]!,
    writers,
    routes,
    async stop() {
      if (stopped) return;
      stopped = true;
      // Order: stop intake, drain consumers (their in-flight batches finish and commit), let running
      // actions finish, flush writers, close the bus, close the store.
      forgetServeAddress();
      await Promise.all([
        ...servers.map((s) => s.close()),
        ...closers.map((c) => c()),
        ...exporters.map((e) => e.stop()),
      ]);
      // Intake stopped: the last per-source figures, while the store is open.
      await sourcesWiring.close();
      // Downstream of the store last: the detect stage's in-flight batch waits (in-process) for
      // its findings to be stored, so the store consumers must outlive it.
      for (const s of [...subscriptions].reverse()) await s.stop();
      await queue?.close();
      await respond?.close();
      await Promise.all([
        writers.events.close(),
        writers.findings.close(),
        incidentWriter.close(),
        actionWriter.close(),
      ]);
      await bus.close();
      await store.close();
      await telemetry.shutdown();
      logger.info('vigil stopped');
    },
  };
}
