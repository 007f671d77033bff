// The admin listener every process serves: health, readiness from the real dependencies, metrics,
// replay, re-identification, feedback, the responder's controls (with the respond role here),
// audit-trail verification, backtests, key rotation and, for Grafana over the embedded store,
// read-only ClickHouse HTTP.
import { createDetectors } from '../../../detectors/index.js';
import type { ReidentifyDeps } from '../../admin/reidentify.js';
import { registerClickHouseHttpRoutes, servesClickHouseHttp } from '../../admin/clickhouse-http.js';
import { registerAdminRoutes } from '../../admin/server.js';
import type { Bus } from '../../bus/index.js';
import type { Ingest } from '../../collectors/ingest.js';
import type { Config, RedisConnection } from '../../config/index.js';
import { backtest, type FindingFilter } from '../../detect/index.js';
import { loadKeyRing, rotateKeyRing, type Tokenizer } from '../../privacy/index.js';
import type { ResponderControl } from '../../respond/index.js';
import { verifyAuditTrail } from '../../store/audit-chain/index.js';
import { readEvents, recordFeedback, type StoreHandle } from '../../store/index.js';
import {
  createProcessCollector,
  createReadiness,
  createRedisProbe,
  type Logger,
  type Metrics,
  renderPrometheus,
} from '../../telemetry/index.js';
import type { HttpEdge } from './http.js';
import type { SourcesWiring } from './sources.js';
import type { StoreWriters } from './store.js';

export interface AdminDeps {
  readonly config: Config;
  readonly edge: HttpEdge;
  readonly store: StoreHandle;
  readonly bus: Bus;
  readonly ingest: Ingest;
  readonly tokenizer: Tokenizer;
  readonly reidentify: ReidentifyDeps;
  readonly filter: FindingFilter;
  readonly writers: StoreWriters;
  readonly sources: SourcesWiring;
  /** The responder's controls; undefined without the respond role here. */
  readonly responder: ResponderControl | undefined;
  /** The responder's Redis (respond role here, REDIS_URL set): probed for readiness. */
  readonly responderRedis: RedisConnection | undefined;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Its process collector and Redis probe stop here, with the intake. */
  readonly closers: Array<() => Promise<void>>;
}

/** Registers the admin routes and listens on VIGIL_ADMIN_PORT; returns the admin URL. */
export async function startAdmin(o: AdminDeps): Promise<string> {
  const { config, store } = o;
  const admin = o.edge.create('admin');
  const ready = readiness(o);
  const processMetrics = createProcessCollector();
  o.closers.push(async () => processMetrics.stop());
  if (ready.close) o.closers.push(ready.close);
  registerAdminRoutes(admin, {
    auth: o.edge.auth,
    authFailures: o.edge.authFailures,
    maxItemsPerRequest: config.env.VIGIL_MAX_ITEMS_PER_REQUEST,
    retentionDays: config.env.VIGIL_EVENTS_TTL_DAYS,
    store: store.client,
    ingest: o.ingest,
    tokenizer: o.tokenizer,
    metrics: o.metrics,
    logger: o.logger,
    maxBodyBytes: config.env.VIGIL_MAX_BODY_BYTES,
    ready: ready.check,
    prometheus: () =>
      renderPrometheus(o.metrics, {
        process: processMetrics,
        gauges: { ingest_inflight_events: o.ingest.inflight() },
      }),
    reidentify: o.reidentify,
    feedback: async (req) => {
      const entry = await recordFeedback(store.client, req);
      if (entry) o.filter.addFeedback([entry]);
      return entry;
    },
    responder: o.responder,
    sources: (q) => o.sources.report(q),
    // Lifecycle changes without a responder here: chained like the responder's own writes.
    saveIncident: (incident) => o.writers.incidents.write([incident]),
    // Flushed first: a batch still in a writer is neither in the store nor in the chain.
    verify: async ({ since }) => {
      await o.writers.flush();
      return verifyAuditTrail({ client: store.client, dataDir: config.dataDir, ...o.writers.chain, since });
    },
    backtest: (q) =>
      backtest(createDetectors(config.pipeline), readEvents(store.client, q), {
        maxHotEntities: config.pipeline.detection.max_hot_entities,
      }),
    rotateKey: config.env.VIGIL_TOKEN_KEY ? undefined : () => rotateTokenKey(o),
  });
  // Grafana's way into the embedded store: read-only ClickHouse HTTP under /clickhouse. Not served
  // with a ClickHouse server (Grafana reads that as its own read-only user).
  if (servesClickHouseHttp(config.env))
    registerClickHouseHttpRoutes(admin, {
      auth: o.edge.auth,
      authFailures: o.edge.authFailures,
      store: store.client,
      database: store.database,
      logger: o.logger,
      metrics: o.metrics,
      maxBodyBytes: config.env.VIGIL_MAX_BODY_BYTES,
    });
  return o.edge.listen(admin, config.env.VIGIL_ADMIN_PORT);
}

/**
 * Readiness from the real dependencies: the store answers, the bus is connected with its consumers
 * alive, and (for the responder) Redis answers. The queue lives in src/respond; its Redis is
 * probed on a connection of its own.
 */
function readiness(o: AdminDeps) {
  const redis = o.responderRedis;
  const probe = redis ? createRedisProbe(redis.url, redis.tls) : undefined;
  const check = createReadiness({
    store: () => o.store.client.ping(),
    bus: o.bus.ready ? () => o.bus.ready!() : undefined,
    redis: probe ? () => probe.ping() : undefined,
  });
  return { check, close: probe ? () => probe.close() : undefined };
}

/** A new tokenization key version under $VIGIL_DATA_DIR/keys, current from now on. */
function rotateTokenKey(o: AdminDeps): { version: number } {
  rotateKeyRing(o.config.dataDir);
  const ring = loadKeyRing({ dataDir: o.config.dataDir, envVersion: 1 });
  o.tokenizer.rotate(ring.current);
  o.logger.warn({ version: ring.current.version }, 'tokenization key rotated');
  return { version: ring.current.version };
}
