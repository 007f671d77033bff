// The collector role: the gateway listener (generic, hoop.dev, Teleport), the hoop.dev sessions
// poller, the OTLP listeners (HTTP and gRPC) and the Kafka source, each as the pipeline enables it.
import { grpcCredentials, startOtlpGrpcServer } from '../../collectors/otlp/grpc.server.js';
import { registerOtlpHttpRoutes } from '../../collectors/otlp/server.js';
import { decoderFor } from '../../collectors/decoders.js';
import type { CollectorDeps } from '../../collectors/deps.js';
import { registerGenericRoutes } from '../../collectors/generic/server.js';
import { createHoopPoller, type HoopPoller } from '../../collectors/hoop/poller.js';
import { registerHoopRoutes } from '../../collectors/hoop/server.js';
import type { Ingest } from '../../collectors/ingest.js';
import { startKafkaSource } from '../../collectors/kafka/source.js';
import { registerTeleportRoutes } from '../../collectors/teleport/server.js';
import { DEFAULT_TENANT } from '../../collectors/tenant.js';
import type { Config, KafkaConnection } from '../../config/index.js';
import type { Tokenizer } from '../../privacy/index.js';
import type { StoreClient } from '../../store/index.js';
import type { Logger, Metrics } from '../../telemetry/index.js';
import type { Credentials } from '../credentials.js';
import { type BusErrorHandler, openKafkaBus } from './bus.js';
import type { HttpEdge } from './http.js';
import type { SourcesWiring } from './sources.js';

export interface CollectorRoleDeps {
  readonly config: Config;
  readonly env: NodeJS.ProcessEnv;
  readonly edge: HttpEdge;
  readonly credentials: Credentials;
  readonly ingest: Ingest;
  readonly tokenizer: Tokenizer;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly sources: SourcesWiring;
  readonly store: StoreClient;
  /** The cluster of the stage bus, also the Kafka source's; undefined: no Kafka source. */
  readonly kafka: KafkaConnection | undefined;
  readonly onBusError: BusErrorHandler;
  /** Intake that is not a listener (pollers, gRPC, the Kafka source): its stops go here. */
  readonly closers: Array<() => Promise<void>>;
}

export interface CollectorUrls {
  /** Gateway events (generic, hoop.dev, Teleport). */
  collector?: string;
  otlpHttp?: string;
  /** host:port of the OTLP gRPC listener. */
  otlpGrpc?: string;
}

export async function startCollectorRole(o: CollectorRoleDeps): Promise<CollectorUrls> {
  const env = o.config.env;
  const deps: CollectorDeps = {
    auth: o.edge.auth,
    authFailures: o.edge.authFailures,
    ingest: o.ingest,
    tokenizer: o.tokenizer,
    metrics: o.metrics,
    logger: o.logger,
    maxBodyBytes: env.VIGIL_MAX_BODY_BYTES,
    maxItemsPerRequest: env.VIGIL_MAX_ITEMS_PER_REQUEST,
    retentionDays: env.VIGIL_EVENTS_TTL_DAYS,
    traceIdentity: o.sources.traceIdentity,
    sourceStats: o.sources.sourceStats,
  };
  const urls: CollectorUrls = { collector: await startGateway(o, deps) };
  if (o.config.pipeline.sources.otlp.enabled) Object.assign(urls, await startOtlp(o, deps));
  await startKafkaSourceIfEnabled(o, deps);
  return urls;
}

/** Gateway events: generic, hoop.dev and Teleport share the gateway port. */
async function startGateway(o: CollectorRoleDeps, deps: CollectorDeps): Promise<string> {
  const sources = o.config.pipeline.sources;
  const gateway = o.edge.create('gateway');
  if (sources.generic.enabled) registerGenericRoutes(gateway, deps);
  const hoopPoller = sources.hoop.enabled ? wireHoop(o, deps, gateway) : undefined;
  if (sources.teleport.enabled) registerTeleportRoutes(gateway, deps);
  const url = await o.edge.listen(gateway, o.config.env.VIGIL_COLLECTOR_PORT);
  hoopPoller?.start();
  return url;
}

/** hoop.dev's webhook routes and its sessions poller (returned unstarted), each when configured. */
function wireHoop(
  o: CollectorRoleDeps,
  deps: CollectorDeps,
  gateway: ReturnType<HttpEdge['create']>,
): HoopPoller | undefined {
  const hoop = o.config.pipeline.sources.hoop;
  // Svix signatures are hoop.dev's only credential: no secret, no route (never an open endpoint).
  const webhookSecrets = o.credentials.hoopSecrets;
  if (webhookSecrets.length) registerHoopRoutes(gateway, { ...deps, webhookSecrets });
  else
    o.logger.info(
      { env: hoop.webhook_secret_env },
      'hoop.dev webhooks are off: no signing secret configured',
    );
  const apiUrl = o.env[hoop.api_url_env]?.trim();
  const apiToken = o.env[hoop.api_token_env]?.trim();
  if (apiUrl && apiToken) {
    const poller = createHoopPoller({
      apiUrl,
      apiToken,
      intervalMs: hoop.poll_interval,
      tenant: DEFAULT_TENANT,
      deps,
    });
    o.closers.push(() => poller.stop());
    return poller;
  }
  if (apiUrl || apiToken)
    o.logger.warn(
      { url: hoop.api_url_env, token: hoop.api_token_env },
      'hoop.dev sessions poller is off: it needs both the API URL and the API token',
    );
  return undefined;
}

/** OTLP/HTTP on VIGIL_OTLP_HTTP_PORT, then gRPC on VIGIL_OTLP_GRPC_PORT. */
async function startOtlp(o: CollectorRoleDeps, deps: CollectorDeps): Promise<CollectorUrls> {
  const env = o.config.env;
  const otlpHttp = o.edge.create('otlp');
  registerOtlpHttpRoutes(otlpHttp, deps);
  const httpUrl = await o.edge.listen(otlpHttp, env.VIGIL_OTLP_HTTP_PORT);
  const grpc = await startOtlpGrpcServer({
    ...deps,
    requestTimeoutMs: env.VIGIL_REQUEST_TIMEOUT,
    host: o.edge.host,
    port: env.VIGIL_OTLP_GRPC_PORT,
    credentials: grpcCredentials(o.edge.tls),
    clientAllowList: o.edge.tls?.allow,
  });
  o.closers.push(grpc.close);
  return { otlpHttp: httpUrl, otlpGrpc: grpc.address };
}

/** Events from the operator's Kafka topic (needs KAFKA_BROKERS); undecodable records are
 * dead-lettered by digest, never by content. */
async function startKafkaSourceIfEnabled(o: CollectorRoleDeps, deps: CollectorDeps): Promise<void> {
  const source = o.config.pipeline.sources.kafka;
  if (!source.enabled || !o.kafka) return;
  const env = o.config.env;
  // The source topic lives on the operator's cluster under its own name: no prefix.
  const sourceBus = await openKafkaBus(o.kafka, env, {
    clientId: `${env.KAFKA_CLIENT_ID}-source`,
    prefix: '',
    onError: o.onBusError,
  });
  const subscription = await startKafkaSource({
    ...deps,
    bus: sourceBus,
    topic: source.topic,
    group: `${env.KAFKA_TOPIC_PREFIX}${source.group}`,
    decode: decoderFor(source.format, deps),
    recordRejected: (reason, digest) =>
      o.store.insert('dead_letters', [{ target: `source:${source.topic}`, reason, row: `sha256:${digest}` }]),
  });
  o.closers.push(async () => {
    await subscription.stop();
    await sourceBus.close();
  });
}
