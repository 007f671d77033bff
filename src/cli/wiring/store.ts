// The store every role shares (ClickHouse server or embedded), migrated before anything reads it;
// the chained writers of events, findings, incidents and actions; and the store role, which writes
// what the stages publish.
import type { Bus, Subscription } from '../../bus/index.js';
import type { Config } from '../../config/index.js';
import {
  type AccessEvent,
  type Action,
  errorMessage,
  type Finding,
  type Incident,
} from '../../model/index.js';
import { createAuditChain, createSealWorker } from '../../store/audit-chain/index.js';
import {
  actionRow,
  type BatchedWriter,
  createBatchedWriter,
  eventRow,
  findingRow,
  incidentRow,
  migrate,
  openStore,
  type StoreHandle,
  startStoreStage,
} from '../../store/index.js';
import {
  instrumentStoreClient,
  type Logger,
  type Metrics,
  observeActions,
  type Telemetry,
  tapWrites,
} from '../../telemetry/index.js';
import { chainIdentity } from './secrets.js';

export interface StoreWriters {
  readonly events: BatchedWriter<AccessEvent>;
  readonly findings: BatchedWriter<Finding>;
  readonly incidents: BatchedWriter<Incident>;
  readonly actions: BatchedWriter<Action>;
  /** The audit chain the four writers extend (id and HMAC key), for verification. */
  readonly chain: { chain: string; key: Buffer };
  /** Every writer flushed: what was written is in the store and in the chain. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export async function openInstrumentedStore(
  config: Config,
  telemetry: Telemetry,
  metrics: Metrics,
): Promise<StoreHandle> {
  const opened = await openStore(config.env, config.dataDir);
  const store: StoreHandle = { ...opened, client: instrumentStoreClient(opened.client, telemetry, metrics) };
  await migrate(store.client, { eventsTtlDays: config.env.VIGIL_EVENTS_TTL_DAYS });
  return store;
}

export function createStoreWriters(o: {
  config: Config;
  store: StoreHandle;
  logger: Logger;
  telemetry: Telemetry;
  metrics: Metrics;
}): StoreWriters {
  const { config, logger } = o;
  const identity = chainIdentity(config);
  // Large batches (events) sealed on a worker thread, where configured (off by default: see
  // seal-worker.ts); else in slices on this thread.
  const sealer = config.env.VIGIL_AUDIT_SEAL_THREAD ? createSealWorker() : undefined;
  // Every stored batch of events, findings, incidents and actions is chained (tamper evidence).
  const chained = (table: string) => ({
    table,
    chain: createAuditChain({
      client: o.store.client,
      table,
      dataDir: config.dataDir,
      ...identity,
      onError: (err, attempt) =>
        logger.warn({ table, err: errorMessage(err), attempt }, 'audit chain append failed, retrying'),
      onWarning: (message) => logger.warn({ table }, message),
      ...(sealer ? { seal: sealer.seal } : {}),
    }),
  });
  const defaults = {
    client: o.store.client,
    maxRows: config.env.VIGIL_WRITER_MAX_ROWS,
    maxAgeMs: config.env.VIGIL_WRITER_MAX_AGE,
    maxBufferedRows: config.env.VIGIL_WRITER_MAX_BUFFERED_ROWS,
    onError: (err: unknown, attempt: number) =>
      logger.warn({ err: errorMessage(err), attempt }, 'store insert failed, retrying'),
  };
  const writers = {
    events: createBatchedWriter<AccessEvent>({
      ...defaults,
      ...chained('events'),
      toRow: eventRow,
      dedupKey: (e) => e.event_id,
    }),
    // A finding may be re-issued under the same id with higher numbers: dedup on id + observed.
    findings: createBatchedWriter<Finding>({
      ...defaults,
      ...chained('findings'),
      // Few rows, and each is waited for: the detect stage commits a batch once its findings are
      // stored (in-process), and detection latency runs until the finding is stored.
      maxAgeMs: Math.min(50, config.env.VIGIL_WRITER_MAX_AGE),
      toRow: findingRow,
      dedupKey: (f) => `${f.finding_id}/${f.observed}`,
    }),
    incidents: createBatchedWriter<Incident>({
      ...defaults,
      ...chained('incidents'),
      toRow: incidentRow,
      maxAgeMs: 50,
    }),
    actions: tapWrites(
      createBatchedWriter<Action>({ ...defaults, ...chained('actions'), toRow: actionRow, maxAgeMs: 50 }),
      (actions) => observeActions(actions, o.telemetry, o.metrics),
    ),
  };
  const all = Object.values(writers);
  return {
    ...writers,
    chain: identity,
    flush: async () => {
      await Promise.all(all.map((w) => w.flush()));
    },
    close: async () => {
      await Promise.all(all.map((w) => w.close()));
      await sealer?.close();
    },
  };
}

/** The store role: events and findings from the bus into their writers. */
export function startStoreRole(bus: Bus, writers: StoreWriters): Promise<Subscription[]> {
  return startStoreStage({ bus, events: writers.events, findings: writers.findings });
}
