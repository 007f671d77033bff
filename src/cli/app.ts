// Wiring: the only place (with the test harness) where transports meet stages. startVigil opens
// what the roles share, then starts the requested roles in order (store, detect, respond, export,
// then the listeners: collector and admin); each role's wiring is a module of src/cli/wiring/.
import type { Bus } from '../bus/index.js';
import type { Ingest } from '../collectors/ingest.js';
import type { Config } from '../config/index.js';
import { createFindingFilter, type DetectorRuntime, type FindingFilter } from '../detect/index.js';
import type { AccessEvent, Finding } from '../model/index.js';
import type { Tokenizer } from '../privacy/index.js';
import type { ActionQueue } from '../respond/index.js';
import type { BatchedWriter, StoreHandle } from '../store/index.js';
import type { Logger, Metrics } from '../telemetry/index.js';
import { BEARER_SOURCES, type BearerSource } from './credentials.js';
import { ALL_ROLES, type Role } from './roles.js';
import { recordServeAddress } from './serve-address.js';
import { startAdmin } from './wiring/admin.js';
import { type CollectorUrls, startCollectorRole } from './wiring/collector.js';
import { startDetectRole } from './wiring/detect.js';
import { startExportRole } from './wiring/export.js';
import { createHttpEdge, type HttpRoute } from './wiring/http.js';
import { type RespondRole, startRespondRole } from './wiring/respond.js';
import { openShared, type Shared } from './wiring/shared.js';
import { stopInOrder, type Started } from './wiring/shutdown.js';
import { wireSources } from './wiring/sources.js';
import { startStoreRole } from './wiring/store.js';

export { ALL_ROLES, type Role };
export type { HttpRoute };

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

export interface StartOptions {
  readonly roles?: readonly Role[];
  readonly logger?: Logger;
  /** Called for findings as the detect stage publishes them. */
  readonly onFindings?: (findings: Finding[]) => void;
}

/** The stage roles started, with what the listeners and the stop need of them. */
interface Stages {
  readonly runtime?: DetectorRuntime;
  readonly respond?: RespondRole;
  readonly filter: FindingFilter;
  readonly started: Omit<Started, 'servers' | 'sources'>;
}

export async function startVigil(
  config: Config,
  opts: StartOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningVigil> {
  const roles = new Set(opts.roles ?? ALL_ROLES);
  const shared = await openShared(config, roles, env, opts.logger);
  const stages = await startStages(config, roles, env, shared, opts);
  const { edge, sources, urls, adminUrl } = await startListeners(config, roles, env, shared, stages);
  const { bus, store, logger } = shared;
  // The CLI of this data directory finds this process here (src/cli/serve-address.ts).
  const forgetServeAddress = recordServeAddress(config.dataDir, adminUrl);
  const queue = stages.respond?.queue;
  logger.info(
    { roles: [...roles], bus: bus.kind, store: store.kind, queue: queue?.kind, ...urls, adminUrl },
    'vigil started',
  );
  const started: Started = { ...stages.started, servers: edge.servers, sources, respond: stages.respond };
  let stopped = false;
  return {
    config,
    store,
    bus,
    queue,
    runtime: stages.runtime,
    tokenizer: shared.tokenizer,
    metrics: shared.metrics,
    logger,
    ingest: shared.ingest,
    collectorUrl: urls.collector,
    otlpHttpUrl: urls.otlpHttp,
    otlpGrpcAddress: urls.otlpGrpc,
    adminUrl,
    ...sourceCredentials(shared),
    writers: { events: shared.writers.events, findings: shared.writers.findings },
    routes: edge.routes,
    async stop() {
      if (stopped) return;
      stopped = true;
      forgetServeAddress();
      await stopInOrder(shared, started);
    },
  };
}

/** The stage roles this process runs, in order: store, detect, respond, export. */
async function startStages(
  config: Config,
  roles: ReadonlySet<Role>,
  env: NodeJS.ProcessEnv,
  shared: Shared,
  opts: StartOptions,
): Promise<Stages> {
  const { bus, writers, logger, metrics } = shared;
  const store = shared.store.client;
  const started: Stages['started'] = { subscriptions: [], closers: [], exporters: [] };
  if (roles.has('store')) started.subscriptions.push(...(await startStoreRole(bus, writers)));
  // Built for every role: the admin API records feedback into it.
  const filter = createFindingFilter(config.pipeline.suppressions, config.pipeline.feedback_ttl);
  let runtime: DetectorRuntime | undefined;
  if (roles.has('detect')) {
    const detect = await startDetectRole({
      config,
      bus,
      store,
      metrics,
      logger,
      filter,
      onFindings: opts.onFindings,
    });
    runtime = detect.runtime;
    started.subscriptions.push(detect.subscription);
    started.closers.push(detect.stopPolling);
  }
  let respond: RespondRole | undefined;
  if (roles.has('respond')) {
    respond = await startRespondRole(bus, {
      config,
      env,
      redis: shared.redis,
      store,
      logger,
      metrics,
      incidents: writers.incidents,
      actions: writers.actions,
      findings: writers.findings,
      reidentify: shared.reidentify,
    });
    started.subscriptions.push(respond.subscription);
  }
  if (roles.has('export')) started.exporters.push(...(await startExportRole(config, store, logger)));
  return { runtime, respond, filter, started };
}

/** The listeners, after the stages: the collector role's, then the admin API every process serves. */
async function startListeners(
  config: Config,
  roles: ReadonlySet<Role>,
  env: NodeJS.ProcessEnv,
  shared: Shared,
  stages: Stages,
) {
  const { bus, store, logger, metrics, tokenizer, ingest } = shared;
  const edge = createHttpEdge({
    config,
    credentials: shared.credentials,
    adminTokens: shared.adminTokens,
    tokenizer,
    metrics,
    logger,
  });
  // OTLP users carried across traces, and what each source sent and what became of it.
  const sources = wireSources({ env: config.env, store: store.client, tokenizer, metrics, logger });
  const { closers } = stages.started;
  closers.push(async () => sources.releaseHeld());
  const urls: CollectorUrls = roles.has('collector')
    ? await startCollectorRole({
        config,
        env,
        edge,
        credentials: shared.credentials,
        ingest,
        tokenizer,
        metrics,
        logger,
        sources,
        store: store.client,
        kafka: shared.kafka,
        onBusError: shared.onBusError,
        closers,
      })
    : {};
  const adminUrl = await startAdmin({
    config,
    edge,
    store,
    bus,
    ingest,
    tokenizer,
    reidentify: shared.reidentify,
    filter: stages.filter,
    writers: shared.writers,
    sources,
    responder: stages.respond?.control,
    responderRedis: stages.respond ? shared.redis : undefined,
    metrics,
    logger,
    closers,
  });
  return { edge, sources, urls, adminUrl };
}

/** The first bearer token of each source (tests and the demo post with them), and the admin token. */
function sourceCredentials(shared: Shared) {
  const { sources } = shared.credentials;
  return {
    sourceToken: sources.generic[0]?.token ?? '',
    sourceTokens: Object.fromEntries(BEARER_SOURCES.map((s) => [s, sources[s][0]?.token ?? ''])) as Record<
      BearerSource,
      string
    >,
    adminToken: shared.adminTokens[0]!,
  };
}
