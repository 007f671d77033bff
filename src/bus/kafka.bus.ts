// Kafka bus (distributed mode), kafkajs behind the Bus contract so the client can be swapped.
// Durability: publish resolves on broker ack with acks=all from an idempotent producer; consumers
// commit a batch's offsets only after the handler (e.g. the ClickHouse insert) resolved.
import { Kafka, type KafkaConfig, logLevel } from 'kafkajs';
import { BackpressureError, errorMessage } from '../model/index.js';
import type { Bus, BusMessage, SubscribeOptions, Subscription } from './bus.js';

export interface KafkaBusOptions {
  readonly brokers: string[];
  readonly clientId: string;
  /** Prepended to topic and group names. */
  readonly prefix: string;
  readonly partitions: number;
  /** How long a publish may wait for the broker before the sender is told to retry. */
  readonly publishTimeoutMs?: number;
  readonly onError?: (context: string, err: unknown) => void;
  readonly ssl?: KafkaConfig['ssl'];
  readonly sasl?: KafkaConfig['sasl'];
}

/**
 * Upper bound on the bytes of one produce request. The broker refuses a record batch above
 * message.max.bytes (1 MiB by default), and one request carries a batch per partition.
 */
const MAX_REQUEST_BYTES = 768 * 1024;

export function chunkBySize(messages: BusMessage[], maxBytes: number): BusMessage[][] {
  const chunks: BusMessage[][] = [];
  let current: BusMessage[] = [];
  let size = 0;
  for (const m of messages) {
    const bytes = m.value.length + m.key.length + 64;
    if (current.length && size + bytes > maxBytes) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(m);
    size += bytes;
  }
  if (current.length) chunks.push(current);
  return chunks;
}

export async function createKafkaBus(opts: KafkaBusOptions): Promise<Bus> {
  const kafka = new Kafka({
    clientId: opts.clientId,
    brokers: opts.brokers,
    logLevel: logLevel.NOTHING,
    ssl: opts.ssl,
    sasl: opts.sasl,
    retry: { initialRetryTime: 100, retries: 8, maxRetryTime: 2_000 },
  });
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  const ensured = new Set<string>();
  const consumers = new Set<Subscription>();
  // Readiness asks the cluster directly, without the bus's retries (a probe must answer fast);
  // a consumer that crashed for good (kafkajs gave up restarting it) makes the bus not ready.
  const probe = kafka.admin({ retry: { retries: 0 } });
  let crashed = 0;
  const publishTimeoutMs = opts.publishTimeoutMs ?? 10_000;

  async function ensureTopic(topic: string): Promise<void> {
    if (ensured.has(topic)) return;
    const existing = await admin.listTopics();
    if (!existing.includes(topic)) {
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: opts.partitions }] });
    }
    ensured.add(topic);
  }

  const name = (topic: string) => `${opts.prefix}${topic}`;

  return {
    kind: 'kafka',
    async publish(topic, messages) {
      if (messages.length === 0) return;
      const full = name(topic);
      let timer: NodeJS.Timeout | undefined;
      try {
        await ensureTopic(full);
        await Promise.race([
          (async () => {
            for (const chunk of chunkBySize(messages, MAX_REQUEST_BYTES)) {
              await producer.send({
                topic: full,
                acks: -1,
                messages: chunk.map((m) => ({ key: m.key, value: m.value })),
              });
            }
          })(),
          new Promise((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`no broker ack within ${publishTimeoutMs} ms`)),
              publishTimeoutMs,
            );
          }),
        ]);
      } catch (err) {
        opts.onError?.(`publish ${full}`, err);
        throw new BackpressureError(`kafka unavailable: ${errorMessage(err)}`, 2);
      } finally {
        clearTimeout(timer);
      }
    },
    async subscribe(sub: SubscribeOptions) {
      const full = name(sub.topic);
      await ensureTopic(full);
      const consumer = kafka.consumer({
        groupId: `${opts.prefix}${sub.group}`,
        // A consumer that died is noticed after the session timeout; keep it short so its
        // partitions move to a live member within seconds.
        sessionTimeout: 10_000,
        heartbeatInterval: 1_000,
        maxBytesPerPartition: 4 * 1024 * 1024,
        retry: { initialRetryTime: 200, retries: 1_000_000, maxRetryTime: 5_000 },
      });
      consumer.on(consumer.events.CRASH, (e) => {
        if (!e.payload.restart) crashed++;
      });
      consumer.on(consumer.events.GROUP_JOIN, () => sub.onRebalance?.());
      await consumer.connect();
      await consumer.subscribe({ topic: full, fromBeginning: true });
      const maxBatch = sub.maxBatch ?? 10_000;
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: sub.concurrency ?? 1,
        eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
          for (let i = 0; i < batch.messages.length; i += maxBatch) {
            if (!isRunning() || isStale()) return;
            const chunk = batch.messages.slice(i, i + maxBatch);
            const messages: BusMessage[] = chunk.map((m) => ({
              key: m.key?.toString('utf8') ?? '',
              value: m.value ?? Buffer.alloc(0),
            }));
            // Throwing here leaves the offsets uncommitted: kafkajs retries and the batch is redelivered.
            await sub.handler(messages);
            const last = chunk[chunk.length - 1]!;
            // resolveOffset moves this consumer's fetch position; commitOffsets makes it durable.
            resolveOffset(last.offset);
            await consumer.commitOffsets([
              {
                topic: batch.topic,
                partition: batch.partition,
                offset: (BigInt(last.offset) + 1n).toString(),
              },
            ]);
            await heartbeat();
          }
        },
      });
      const subscription: Subscription = {
        async stop() {
          consumers.delete(subscription);
          // disconnect waits for the running eachBatch (and its commit) to finish.
          await consumer.disconnect();
        },
      };
      consumers.add(subscription);
      return subscription;
    },
    async ready() {
      if (crashed > 0) return false;
      try {
        await probe.connect();
        await probe.describeCluster();
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      await Promise.all([...consumers].map((c) => c.stop()));
      await producer.disconnect();
      await admin.disconnect();
      await probe.disconnect();
    },
  };
}
