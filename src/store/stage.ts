// The store stage: events and findings topics into ClickHouse. The handler resolves only after the
// writer inserted the batch, so the bus commits offsets (Kafka) or acknowledges senders
// (in-process) only for stored records.
import { type Bus, decodeJson, type Subscription, TOPICS } from '../bus/index.js';
import type { AccessEvent, Finding } from '../model/index.js';
import type { BatchedWriter } from './writer.js';

export interface StoreStageDeps {
  readonly bus: Bus;
  readonly events: BatchedWriter<AccessEvent>;
  readonly findings: BatchedWriter<Finding>;
}

export async function startStoreStage(deps: StoreStageDeps): Promise<Subscription[]> {
  return Promise.all([
    deps.bus.subscribe({
      topic: TOPICS.events,
      group: 'store',
      durable: true,
      maxBatch: 20_000,
      // Each batch waits for its insert (up to VIGIL_WRITER_MAX_AGE to fill one): the writer
      // gathers the partitions' batches into shared inserts instead of one partition at a time.
      concurrency: 8,
      handler: (messages) => deps.events.write(messages.map((m) => decodeJson<AccessEvent>(m))),
    }),
    deps.bus.subscribe({
      topic: TOPICS.findings,
      group: 'store-findings',
      durable: true,
      maxBatch: 5_000,
      // As for events: one partition at a time, each waiting for its own chained insert, put
      // seconds between a finding and its row over Kafka (the detection latency's end point).
      concurrency: 8,
      handler: (messages) => deps.findings.write(messages.map((m) => decodeJson<Finding>(m))),
    }),
  ]);
}
