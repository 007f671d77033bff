// The Kafka bus against a real broker: produce → store → ClickHouse, redelivery without
// duplicates, and a store consumer SIGKILLed mid-stream that loses nothing once restarted.
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Bus, createKafkaBus, encodeJson, partitionKey, TOPICS } from '../../src/bus/index.js';
import { loadConfig } from '../../src/config/index.js';
import { type AccessEvent, BackpressureError, type Finding } from '../../src/model/index.js';
import {
  createBatchedWriter,
  eventRow,
  findingRow,
  migrate,
  openStore,
  type StoreHandle,
  startStoreStage,
  summary,
} from '../../src/store/index.js';
import { freePort, spawnVigil } from '../helpers/child.js';
import { makeEvent } from '../helpers/factories.js';
import { KAFKA_BROKERS, tempDataDir, uniqueName } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { testTime } from '../helpers/clock.js';

const toMessages = (events: AccessEvent[]) =>
  events.map((e) => ({ key: partitionKey(e.tenant, e.actor), value: encodeJson(e) }));

async function kafkaBus(prefix: string, eventsPerRecord?: number): Promise<Bus> {
  return createKafkaBus({
    brokers: [KAFKA_BROKERS],
    clientId: 'vigil-test',
    prefix,
    partitions: 3,
    recordBatch: eventsPerRecord ? { maxEvents: eventsPerRecord, maxBytes: 256 * 1024 } : undefined,
  });
}

describe('Kafka bus → ClickHouse', () => {
  let store: StoreHandle;

  beforeAll(async () => {
    const config = loadConfig({ VIGIL_DATA_DIR: tempDataDir() });
    store = await openStore(config.env, config.dataDir);
    await migrate(store.client, { eventsTtlDays: 30 });
  });
  afterAll(async () => store?.close());

  it('stores what was produced, and a redelivered batch is not duplicated', async () => {
    const prefix = `${uniqueName('kb')}.`;
    const tenant = uniqueName('kafka');
    const bus = await kafkaBus(prefix);
    const events = Array.from({ length: 3_000 }, (_, i) =>
      makeEvent({ tenant, actor: `usr_k1_a${i % 17}`, time: testTime(2, 8) + i }),
    );
    await bus.publish(TOPICS.events, toMessages(events));
    await bus.publish(TOPICS.events, toMessages(events.slice(0, 1_000))); // the same records again
    const writer = createBatchedWriter<AccessEvent>({
      client: store.client,
      table: 'events',
      toRow: eventRow,
      dedupKey: (e) => e.event_id,
    });
    const findings = createBatchedWriter<Finding>({
      client: store.client,
      table: 'findings',
      toRow: findingRow,
    });
    const subs = await startStoreStage({ bus, events: writer, findings });
    try {
      const s = await waitFor(
        () => summary(store.client, tenant),
        (x) => x.distinct_events === 3_000,
        { what: 'all events stored' },
      );
      expect(s.distinct_events).toBe(3_000);
      const [row] = await store.client.query<{ n: string }>(
        'SELECT count() AS n FROM events FINAL WHERE tenant = {t:String}',
        { t: tenant },
      );
      expect(Number(row!.n)).toBe(3_000);
    } finally {
      for (const s of subs) await s.stop();
      await writer.close();
      await bus.close();
    }
  });

  it('loses nothing when the store consumer is SIGKILLed mid-stream (mid-batch) and restarted', async () => {
    const prefix = `${uniqueName('kill')}.`;
    const tenant = uniqueName('killed');
    const total = 60_000;
    const bus = await kafkaBus(prefix);
    for (let i = 0; i < total; i += 10_000) {
      const batch = Array.from({ length: 10_000 }, (_, j) =>
        makeEvent({ tenant, actor: `usr_k1_b${(i + j) % 50}`, time: testTime(3, 8) + i + j }),
      );
      await bus.publish(TOPICS.events, toMessages(batch));
    }
    await bus.close();
    // Several hundred events to a record: the kill lands inside records as well as between them.
    const admin = new Kafka({
      clientId: 'vigil-test-count',
      brokers: [KAFKA_BROKERS],
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    const records = (await admin.fetchTopicOffsets(`${prefix}${TOPICS.events}`)).reduce(
      (n, p) => n + Number(p.high),
      0,
    );
    await admin.disconnect();
    expect(records).toBeGreaterThan(0);
    expect(records).toBeLessThanOrEqual(total / 100);
    const dataDir = tempDataDir();
    const adminPort = await freePort();
    const adminToken = randomBytes(16).toString('hex');
    const env = {
      KAFKA_BROKERS,
      KAFKA_TOPIC_PREFIX: prefix,
      VIGIL_DATA_DIR: dataDir,
      VIGIL_ADMIN_PORT: String(adminPort),
      VIGIL_COLLECTOR_PORT: '0',
      VIGIL_ADMIN_TOKEN: adminToken,
      VIGIL_LOG_LEVEL: 'warn',
      // Small batches, so the kill lands between commits.
      VIGIL_WRITER_MAX_ROWS: '2000',
      REDIS_URL: '',
      CLICKHOUSE_URL: '',
    };
    const stored = async () => {
      try {
        const res = await fetch(`http://127.0.0.1:${adminPort}/v1/summary?tenant=${tenant}`, {
          headers: { authorization: `Bearer ${adminToken}` },
        });
        return res.ok
          ? ((await res.json()) as { events: number; distinct_events: number })
          : { events: -1, distinct_events: -1 };
      } catch {
        return { events: -1, distinct_events: -1 };
      }
    };
    const first = spawnVigil(['serve', '--roles', 'store'], env);
    const partial = await waitFor(stored, (s) => s.distinct_events > 0, {
      what: 'first rows stored',
      timeoutMs: 60_000,
      intervalMs: 20,
    });
    await first.kill('SIGKILL');
    expect(partial.distinct_events).toBeLessThan(total);
    const second = spawnVigil(['serve', '--roles', 'store'], env);
    try {
      second.proc.on('exit', (code) => {
        if (code) console.error(`restarted consumer exited ${code}: ${second.output().slice(-2000)}`);
      });
      const done = await waitFor(stored, (s) => s.distinct_events === total, {
        what: 'every event stored after restart',
        timeoutMs: 90_000,
      });
      expect(done.distinct_events).toBe(total);
      // Redelivered rows after the kill may be stored twice before merges; never fewer.
      expect(done.events).toBeGreaterThanOrEqual(total);
    } finally {
      await second.kill('SIGTERM');
    }
  }, 240_000);
});

// One event per record here: these count records on the broker against events acknowledged.
describe('Kafka bus: concurrent publishes share produce requests', () => {
  const kafka = new Kafka({
    clientId: 'vigil-test-admin',
    brokers: [KAFKA_BROKERS],
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  beforeAll(async () => admin.connect());
  afterAll(async () => admin.disconnect());

  const readable = async (topic: string) =>
    (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);

  it('resolves each publish only once its records are readable, and every record arrives once', async () => {
    const prefix = `${uniqueName('kbc')}.`;
    const topic = `${prefix}${TOPICS.events}`;
    const tenant = uniqueName('coalesce');
    const bus = await kafkaBus(prefix, 1);
    try {
      await bus.publish(TOPICS.events, toMessages([makeEvent({ tenant, actor: 'usr_warm' })]));
      // 16 small publishes and one spanning several requests, all at once: they queue behind the
      // request in flight and go out together.
      const sizes = [...Array.from({ length: 16 }, (_, i) => 50 + i * 20), 6_000];
      const batches = sizes.map((n, b) =>
        Array.from({ length: n }, (_, i) => makeEvent({ tenant, actor: `usr_c${b}_${i % 7}` })),
      );
      let acknowledged = 1;
      const seenAtAck: Array<{ acknowledged: number; readable: number }> = [];
      await Promise.all(
        batches.map(async (events) => {
          await bus.publish(TOPICS.events, toMessages(events));
          acknowledged += events.length;
          const counted = acknowledged;
          seenAtAck.push({ acknowledged: counted, readable: await readable(topic) });
        }),
      );
      // acks=all on one broker: what was acknowledged is below the high watermark, i.e. readable.
      for (const s of seenAtAck) expect(s.readable).toBeGreaterThanOrEqual(s.acknowledged);
      const total = 1 + sizes.reduce((a, b) => a + b, 0);
      expect(await readable(topic)).toBe(total);

      const received = new Map<string, number>();
      const sub = await bus.subscribe({
        topic: TOPICS.events,
        group: 'coalesce-check',
        handler: async (messages) => {
          for (const m of messages) {
            const id = (JSON.parse(m.value.toString('utf8')) as AccessEvent).event_id;
            received.set(id, (received.get(id) ?? 0) + 1);
          }
        },
      });
      try {
        await waitFor(
          () => received.size,
          (n) => n === total,
          { what: 'every published record consumed', timeoutMs: 60_000 },
        );
      } finally {
        await sub.stop();
      }
      for (const events of batches) for (const e of events) expect(received.get(e.event_id)).toBe(1);
    } finally {
      await bus.close();
    }
  }, 120_000);

  it('rejects every publish of a failed shared request with BackpressureError', async () => {
    const prefix = `${uniqueName('kbf')}.`;
    const topic = `${prefix}${TOPICS.events}`;
    // The broker refuses a record batch above 4,000 bytes on this topic: one publish of ten
    // 300-byte records fits, three of them sharing one request do not.
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: '4000' }] }],
    });
    const bus = await kafkaBus(prefix, 1);
    const records = (tag: string, n: number) =>
      Array.from({ length: n }, (_, i) => ({ key: `k-${tag}`, value: Buffer.alloc(300, `${tag}${i}`) }));
    try {
      await bus.publish(TOPICS.events, records('w', 1));
      const [inFlight, ...queued] = await Promise.allSettled([
        bus.publish(TOPICS.events, records('a', 1)),
        bus.publish(TOPICS.events, records('b', 10)),
        bus.publish(TOPICS.events, records('c', 10)),
        bus.publish(TOPICS.events, records('d', 10)),
      ]);
      expect(inFlight.status).toBe('fulfilled');
      for (const r of queued) {
        expect(r.status).toBe('rejected');
        expect((r as PromiseRejectedResult).reason).toBeInstanceOf(BackpressureError);
      }
      // Alone, the same publish goes through: the producer is still usable after the failure.
      await bus.publish(TOPICS.events, records('b', 10));
      expect(await readable(topic)).toBe(12);
    } finally {
      await bus.close();
    }
  }, 60_000);
});
