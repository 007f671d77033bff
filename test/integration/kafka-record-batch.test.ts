// Several events per Kafka record, against the real broker: what the bus writes is batch records
// within their bounds, consumers get back every event once and each key's events in order, records
// written one event per record (the previous version, or another producer) are read alongside,
// and a poison event inside a batch record is dead-lettered alone while the rest is stored.
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Bus,
  type BusMessage,
  createKafkaBus,
  encodeJson,
  partitionKey,
  TOPICS,
} from '../../src/bus/index.js';
import { BATCH_HEADER, unpackRecord } from '../../src/bus/kafka-record-batch.js';
import { loadConfig } from '../../src/config/index.js';
import type { AccessEvent, Finding } from '../../src/model/index.js';
import {
  createBatchedWriter,
  eventRow,
  findingRow,
  migrate,
  openStore,
  type StoreHandle,
  startStoreStage,
} from '../../src/store/index.js';
import { testTime } from '../helpers/clock.js';
import { makeEvent } from '../helpers/factories.js';
import { KAFKA_BROKERS, tempDataDir, uniqueName } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';

const toMessages = (events: AccessEvent[]) =>
  events.map((e) => ({ key: partitionKey(e.tenant, e.actor), value: encodeJson(e) }));

const limits = { maxEvents: 40, maxBytes: 16 * 1024 };

function kafkaBus(prefix: string): Promise<Bus> {
  return createKafkaBus({
    brokers: [KAFKA_BROKERS],
    clientId: 'vigil-test',
    prefix,
    partitions: 3,
    recordBatch: limits,
  });
}

const kafka = new Kafka({ clientId: 'vigil-test-raw', brokers: [KAFKA_BROKERS], logLevel: logLevel.NOTHING });

/** Every record of a topic as written, read by a plain kafkajs consumer. */
async function rawRecords(topic: string, expected: number) {
  const consumer = kafka.consumer({ groupId: uniqueName('raw-reader') });
  const records: Array<{ partition: number; value: Buffer; headers: Record<string, unknown> }> = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      records.push({ partition, value: message.value!, headers: message.headers ?? {} });
    },
  });
  try {
    await waitFor(
      () => records.length,
      (n) => n >= expected,
      { what: 'every record read', timeoutMs: 60_000 },
    );
  } finally {
    await consumer.disconnect();
  }
  return records;
}

/** Consumes through the bus until `count` messages arrived; returns them in arrival order. */
async function consumeAll(bus: Bus, count: number, maxBatch?: number): Promise<BusMessage[]> {
  const received: BusMessage[] = [];
  const sub = await bus.subscribe({
    topic: TOPICS.events,
    group: 'batch-check',
    maxBatch,
    handler: async (messages) => {
      received.push(...messages);
    },
  });
  try {
    await waitFor(
      () => received.length,
      (n) => n >= count,
      { what: 'every event consumed', timeoutMs: 60_000 },
    );
  } finally {
    await sub.stop();
  }
  return received;
}

const ids = (messages: BusMessage[]) =>
  messages.map((m) => (JSON.parse(m.value.toString()) as AccessEvent).event_id);

/** Each key's event ids in the order they arrived. */
function byKey(messages: BusMessage[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of messages) {
    const list = out.get(m.key) ?? [];
    list.push((JSON.parse(m.value.toString()) as AccessEvent).event_id);
    out.set(m.key, list);
  }
  return out;
}

describe('Kafka bus: several events per record', () => {
  it('writes bounded batch records and gives back every event once, each key in publish order', async () => {
    const prefix = `${uniqueName('kbr')}.`;
    const tenant = uniqueName('batch');
    const bus = await kafkaBus(prefix);
    try {
      // Events of different sizes (some query text) so records are cut by bytes and by count.
      const events = Array.from({ length: 2_000 }, (_, i) =>
        makeEvent({
          tenant,
          actor: `usr_r${i % 23}`,
          time: testTime(4, 8) + i,
          operation_raw: i % 5 === 0 ? 'x'.repeat(900) : 'search',
        }),
      );
      // Several publishes, as from several collector requests.
      for (let i = 0; i < events.length; i += 500)
        await bus.publish(TOPICS.events, toMessages(events.slice(i, i + 500)));
      const received = await consumeAll(bus, events.length, 25);
      expect(received).toHaveLength(events.length);
      expect(new Set(ids(received)).size).toBe(events.length);
      expect(byKey(received)).toEqual(byKey(toMessages(events)));

      const records = await rawRecords(
        `${prefix}${TOPICS.events}`,
        Math.ceil(events.length / limits.maxEvents),
      );
      let carried = 0;
      for (const r of records) {
        expect(String(r.headers[BATCH_HEADER])).toBe('1');
        expect(r.value.length).toBeLessThanOrEqual(limits.maxBytes);
        const inside = unpackRecord(null, r.value, r.headers);
        expect(inside.length).toBeGreaterThan(0);
        expect(inside.length).toBeLessThanOrEqual(limits.maxEvents);
        carried += inside.length;
      }
      expect(carried).toBe(events.length);
      // Cut by the bounds only: 4 publishes × 3 partitions, each at most a few records.
      expect(records.length).toBeLessThan(events.length / 10);
    } finally {
      await bus.close();
    }
  }, 120_000);

  it('reads records written one event per record alongside batch records, each key in order', async () => {
    const prefix = `${uniqueName('kbm')}.`;
    const topic = `${prefix}${TOPICS.events}`;
    const tenant = uniqueName('mixed');
    const bus = await kafkaBus(prefix);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const events = Array.from({ length: 1_200 }, (_, i) =>
        makeEvent({ tenant, actor: `usr_m${i % 11}`, time: testTime(5, 8) + i }),
      );
      // Alternating: 100 events the old way (one record each, key only, DefaultPartitioner), then
      // 100 through the bus, and so on; both land in the partition of each event's key.
      for (let i = 0; i < events.length; i += 100) {
        const slice = toMessages(events.slice(i, i + 100));
        if ((i / 100) % 2 === 0)
          await producer.send({
            topic,
            acks: -1,
            messages: slice.map((m) => ({ key: m.key, value: m.value })),
          });
        else await bus.publish(TOPICS.events, slice);
      }
      const received = await consumeAll(bus, events.length);
      expect(received).toHaveLength(events.length);
      expect(new Set(ids(received)).size).toBe(events.length);
      expect(byKey(received)).toEqual(byKey(toMessages(events)));
    } finally {
      await producer.disconnect();
      await bus.close();
    }
  }, 120_000);
});

describe('Kafka batch records → store', () => {
  let store: StoreHandle;

  beforeAll(async () => {
    const config = loadConfig({ VIGIL_DATA_DIR: tempDataDir() });
    store = await openStore(config.env, config.dataDir);
    await migrate(store.client, { eventsTtlDays: 30 });
  });
  afterAll(async () => store?.close());

  const count = async (query: string, params: Record<string, string>) => {
    const [row] = await store.client.query<{ n: string }>(query, params);
    return Number(row!.n);
  };

  it('dead-letters a poison event inside a batch record alone and stores the rest', async () => {
    const prefix = `${uniqueName('kbp')}.`;
    const tenant = uniqueName('batch-poison');
    const bus = await kafkaBus(prefix);
    const events = Array.from({ length: 300 }, (_, i) =>
      makeEvent({ tenant, actor: `usr_p${i % 4}`, time: testTime(6, 8) + i }),
    );
    // Two events in the middle of their records: the store refuses their rows as data errors.
    const poisoned = new Set([events[17]!.event_id, events[150]!.event_id]);
    const writer = createBatchedWriter<AccessEvent>({
      client: store.client,
      table: 'events',
      toRow: (e) => (poisoned.has(e.event_id) ? { ...eventRow(e), time: 'not a time' } : eventRow(e)),
      dedupKey: (e) => e.event_id,
    });
    const findings = createBatchedWriter<Finding>({
      client: store.client,
      table: 'findings',
      toRow: findingRow,
    });
    await bus.publish(TOPICS.events, toMessages(events));
    const subs = await startStoreStage({ bus, events: writer, findings });
    try {
      const stored = await waitFor(
        () => count('SELECT count() AS n FROM events WHERE tenant = {t:String}', { t: tenant }),
        (n) => n === 298,
        { what: 'the valid events stored' },
      );
      expect(stored).toBe(298);
      expect(writer.stats.deadLettered).toBe(2);
      expect(
        await count("SELECT count() AS n FROM dead_letters WHERE target = 'events' AND row LIKE {p:String}", {
          p: `%${tenant}%`,
        }),
      ).toBe(2);
    } finally {
      for (const s of subs) await s.stop();
      await writer.close();
      await findings.close();
      await bus.close();
    }
  }, 120_000);
});
