// Kafka bus (distributed mode), kafkajs behind the Bus contract so the client can be swapped.
// Durability: publish resolves on broker ack with acks=all from an idempotent producer; consumers
// commit a record's offset only after the handler (e.g. the ClickHouse insert) resolved for every
// message it carries. Messages travel several to a record (kafka-record-batch.ts).
import { setTimeout as delay } from 'node:timers/promises';
import {
  type ICustomPartitioner,
  Kafka,
  type KafkaConfig,
  type KafkaMessage,
  logLevel,
  type PartitionerArgs,
  Partitioners,
  type Producer,
  type ProducerBatch,
} from 'kafkajs';
import type { KafkaConnection } from '../config/index.js';
import { type Backoff, BackpressureError, backoffDelayMs, errorMessage } from '../model/index.js';
import type { Bus, BusMessage, SubscribeOptions, Subscription } from './bus.js';
import { type BatchRecord, packRecords, type RecordBatchLimits, readRecord } from './kafka-record-batch.js';

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
  /**
   * Messages per Kafka record at most, and bytes of a record's value at most.
   * @defaultValue DEFAULT_RECORD_BATCH
   */
  readonly recordBatch?: RecordBatchLimits;
}

/**
 * 500 messages or 256 KiB a record: a few hundred canonical events, so kafkajs's per-record work
 * is paid for a few hundred events at once, and a record stays far below the broker's 1 MiB
 * message.max.bytes and the 768 KiB request bound below (a record never spans requests).
 */
export const DEFAULT_RECORD_BATCH: RecordBatchLimits = { maxEvents: 500, maxBytes: 256 * 1024 };

/** The cluster's address and security, as kafkajs takes them. */
export function kafkaClientOptions(c: KafkaConnection): Pick<KafkaBusOptions, 'brokers' | 'ssl' | 'sasl'> {
  return {
    brokers: c.brokers,
    // Node's TLS defaults verify the certificate chain and the broker's name; nothing here relaxes them.
    ssl: c.tls ? { ...c.tls } : undefined,
    // Spelled out per mechanism: kafkajs types its SASL options as one object per mechanism.
    sasl: c.sasl
      ? c.sasl.mechanism === 'plain'
        ? { ...c.sasl, mechanism: 'plain' }
        : c.sasl.mechanism === 'scram-sha-256'
          ? { ...c.sasl, mechanism: 'scram-sha-256' }
          : { ...c.sasl, mechanism: 'scram-sha-512' }
      : undefined,
  };
}

/**
 * Upper bound on the bytes of one produce request. The broker refuses a record batch above
 * message.max.bytes (1 MiB by default), and one request carries a batch per partition.
 */
const MAX_REQUEST_BYTES = 768 * 1024;

/** A record's share of a produce request: key, value and a bound on the record's own framing. */
const recordBytes = (m: BusMessage) => m.value.length + m.key.length + 64;

export function chunkBySize(messages: BusMessage[], maxBytes: number): BusMessage[][] {
  const chunks: BusMessage[][] = [];
  let current: BusMessage[] = [];
  let size = 0;
  for (const m of messages) {
    const bytes = recordBytes(m);
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

/** Keys whose partition a producer remembers at most (a few MB; then it starts over). */
const MAX_CACHED_KEYS = 100_000;

/**
 * kafkajs's DefaultPartitioner (murmur2 of the key, Java-compatible), remembered per topic, key and
 * partition count. The inner one hashes the key and filters the partition list for every message
 * (~5 µs a message here, bench/PROFILE.md); a key's partition only changes with the partition
 * count, which is part of the cache's identity. Messages without a string key (or with a
 * partition of their own) go to the inner one every time.
 */
export const CachedDefaultPartitioner: ICustomPartitioner = () => {
  const inner = Partitioners.DefaultPartitioner();
  const byTopic = new Map<string, { partitions: number; byKey: Map<string, number> }>();
  return (args) => {
    const { topic, partitionMetadata, message } = args;
    if (typeof message.key !== 'string' || (message.partition !== undefined && message.partition !== null))
      return inner(args);
    let cache = byTopic.get(topic);
    if (!cache || cache.partitions !== partitionMetadata.length || cache.byKey.size >= MAX_CACHED_KEYS) {
      cache = { partitions: partitionMetadata.length, byKey: new Map() };
      byTopic.set(topic, cache);
    }
    let partition = cache.byKey.get(message.key);
    if (partition === undefined) {
      partition = inner(args);
      cache.byKey.set(message.key, partition);
    }
    return partition;
  };
};

/**
 * A request's messages as batch records: grouped by the partition their key hashes to (the same
 * partition kafkajs's DefaultPartitioner picks for the key alone), each group cut into records in
 * publish order. Each record names its partition, so all its messages land where their key would.
 */
export function toPartitionRecords(
  topic: string,
  messages: readonly BusMessage[],
  partitions: number,
  partitionOf: (args: PartitionerArgs) => number,
  limits: RecordBatchLimits,
): Array<BatchRecord & { partition: number }> {
  const metadata = partitionList(partitions);
  const byPartition = new Map<number, BusMessage[]>();
  for (const m of messages) {
    const partition = partitionOf({
      topic,
      partitionMetadata: metadata,
      message: { key: m.key, value: null },
    });
    let group = byPartition.get(partition);
    if (!group) {
      group = [];
      byPartition.set(partition, group);
    }
    group.push(m);
  }
  const records: Array<BatchRecord & { partition: number }> = [];
  for (const [partition, group] of byPartition)
    for (const record of packRecords(group, limits)) records.push({ ...record, partition });
  return records;
}

const partitionLists = new Map<number, PartitionerArgs['partitionMetadata']>();
/** The partitioner reads only the list's length for a keyed message; one list per count. */
function partitionList(count: number): PartitionerArgs['partitionMetadata'] {
  let list = partitionLists.get(count);
  if (!list) {
    list = Array.from({ length: count }, (_, partitionId) => ({
      partitionErrorCode: 0,
      partitionId,
      leader: 0,
      replicas: [0],
      isr: [0],
      offlineReplicas: [],
    }));
    partitionLists.set(count, list);
  }
  return list;
}

/**
 * A fetched batch's records as handler calls of at most `maxBatch` messages, in order, and after
 * each call the offset to commit: the last record all of whose messages were handled (undefined
 * while a record's messages are still partly waiting). A record's messages may thus span calls;
 * its offset moves only once the last of them was handled, so a crash redelivers it whole.
 */
export async function handleRecords(
  records: readonly Pick<KafkaMessage, 'key' | 'value' | 'headers' | 'offset'>[],
  maxBatch: number,
  handle: (messages: BusMessage[]) => Promise<void>,
  commit: (offset: string) => Promise<void>,
  running: () => boolean,
  read: (
    key: Buffer | null,
    value: Buffer | null,
    headers: Record<string, unknown> | undefined,
  ) => BusMessage[] = readRecord,
): Promise<void> {
  const ends: Array<{ offset: string; end: number }> = [];
  let queued: BusMessage[] = [];
  let total = 0;
  let handed = 0;
  let committed = 0;
  const handOver = async (count: number) => {
    if (count > 0) {
      const part = queued.slice(0, count);
      queued = queued.slice(count);
      await handle(part);
      handed += part.length;
    }
    let last: string | undefined;
    while (committed < ends.length && ends[committed]!.end <= handed) last = ends[committed++]!.offset;
    if (last !== undefined) await commit(last);
  };
  for (const record of records) {
    if (!running()) return;
    const messages = read(record.key, record.value, record.headers);
    for (const m of messages) queued.push(m);
    total += messages.length;
    ends.push({ offset: record.offset, end: total });
    while (queued.length >= maxBatch) {
      if (!running()) return;
      await handOver(maxBatch);
    }
  }
  if (running()) await handOver(queued.length);
}

/** A record as one message, whatever its headers (a topic other producers write). */
const asIs = (key: Buffer | null, value: Buffer | null): BusMessage[] => [
  { key: key?.toString('utf8') ?? '', value: value ?? Buffer.alloc(0) },
];

/** Waits while a new topic is unknown to a broker's metadata (a few seconds at most, 10 tries). */
export const TOPIC_METADATA_BACKOFF: Backoff = { baseMs: 200, capMs: 2_000, jitter: 'equal' };

/** One produce request's worth of records, by topic (each topic once: kafkajs keys a request's topics by name). */
export type TopicMessages = Array<{ topic: string; messages: BusMessage[] }>;

interface PendingPublish {
  readonly topic: string;
  readonly messages: BusMessage[];
  /** Each message's recordBytes, taken when it was published (encoding errors go to the caller). */
  readonly sizes: number[];
  /** The first message not yet taken into a request. */
  next: number;
  /** Requests carrying some of this publish's messages that are not acknowledged yet. */
  unacked: number;
  /** Resolved, rejected or given up by its caller: its messages not yet taken are dropped. */
  settled: boolean;
  resolve(): void;
  reject(err: unknown): void;
}

export interface CoalescingSender {
  /**
   * Resolves once every one of the messages was acknowledged by `send`; rejects with the error of
   * the first request carrying some of them that failed (the rest of them are then not sent).
   * `abandon` gives the publish up (its caller stopped waiting): its messages not yet in a request
   * are dropped, the promise is left pending.
   */
  publish(topic: string, messages: BusMessage[]): { acked: Promise<void>; abandon(): void };
}

/**
 * Publishes arriving while a request is in flight wait and go together in the next one, up to
 * `maxRequestBytes` (one publish may span requests, several may share one).
 * One request at a time, as the idempotent producer with one request in flight sends them anyway:
 * sixteen concurrent callers no longer each wait a round trip for their own small last chunk.
 */
export function createCoalescingSender(
  send: (request: TopicMessages) => Promise<void>,
  maxRequestBytes: number,
): CoalescingSender {
  const queue: PendingPublish[] = [];
  let sending = false;

  /**
   * The next request: every waiting publish first gets an equal share of it (in arrival order),
   * then the room left goes to them in arrival order. A small publish (the detect stage's findings,
   * whose batch commits after it) thus goes out in the next request, not behind megabytes of
   * events queued by the collectors before it.
   */
  function takeRequest(): { request: TopicMessages; carried: PendingPublish[] } {
    const byTopic = new Map<string, BusMessage[]>();
    const carried = new Set<PendingPublish>();
    let size = 0;
    const take = (p: PendingPublish, limit: number) => {
      let taken = 0;
      let into = byTopic.get(p.topic);
      while (p.next < p.messages.length) {
        const bytes = p.sizes[p.next]!;
        if (size > 0 && size + bytes > maxRequestBytes) break;
        if (taken > 0 && taken + bytes > limit) break;
        if (!into) {
          into = [];
          byTopic.set(p.topic, into);
        }
        into.push(p.messages[p.next]!);
        size += bytes;
        taken += bytes;
        p.next++;
      }
      if (taken > 0) carried.add(p);
    };
    const waiting = queue.filter((p) => !p.settled);
    const share = Math.floor(maxRequestBytes / Math.max(1, waiting.length));
    for (const p of waiting) take(p, share);
    for (const p of waiting) take(p, Number.POSITIVE_INFINITY);
    // Publishes given up or wholly taken leave the queue; the others keep their place.
    queue.length = 0;
    for (const p of waiting) if (p.next < p.messages.length) queue.push(p);
    for (const p of carried) p.unacked++;
    return {
      request: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      carried: [...carried],
    };
  }

  async function drain(): Promise<void> {
    sending = true;
    try {
      for (;;) {
        const { request, carried } = takeRequest();
        if (carried.length === 0) return;
        try {
          await send(request);
        } catch (err) {
          for (const p of carried) {
            if (p.settled) continue;
            p.settled = true;
            p.reject(err);
          }
          continue;
        }
        for (const p of carried) {
          p.unacked--;
          if (p.settled || p.unacked > 0 || p.next < p.messages.length) continue;
          p.settled = true;
          p.resolve();
        }
      }
    } finally {
      sending = false;
    }
  }

  return {
    publish(topic, messages) {
      const sizes = messages.map(recordBytes);
      let pending!: PendingPublish;
      const acked = new Promise<void>((resolve, reject) => {
        pending = { topic, messages, sizes, next: 0, unacked: 0, settled: false, resolve, reject };
      });
      if (messages.length === 0) {
        pending.settled = true;
        pending.resolve();
        return { acked, abandon() {} };
      }
      queue.push(pending);
      if (!sending) void drain();
      return {
        acked,
        abandon() {
          pending.settled = true;
        },
      };
    },
  };
}

/** The producer calls the bus makes. */
export interface BusProducer {
  connect(): Promise<void>;
  sendBatch(batch: ProducerBatch): Promise<void>;
  disconnect(): Promise<void>;
}

/**
 * An idempotent producer that is replaced after any failed send. A send that failed may still have
 * been written (the broker wrote it, then died or its answer was lost); kafkajs then gives the
 * partitions' sequence numbers back, so the next request carrying as many records to a partition
 * would reuse the written request's sequence range, and the broker would take it for a retry of
 * that request: acknowledge it and drop it (test/integration/fault-kafka-lost-ack.test.ts). A new
 * producer gets a new producer id from the broker, whose sequences start afresh.
 */
export function replacedAfterFailure(create: () => Producer): BusProducer {
  let current: Promise<Producer> | undefined;
  const open = (): Promise<Producer> => {
    const producer = create();
    return producer.connect().then(
      () => producer,
      async (err) => {
        await producer.disconnect().catch(() => {});
        throw err;
      },
    );
  };
  /** Forgets `opened` (unless replaced already) and lets its connections go. */
  const retire = (opened: Promise<Producer>) => {
    if (current === opened) current = undefined;
    void opened.then((p) => p.disconnect()).catch(() => {});
  };
  /** Runs `work` on the current producer (opened when there is none); any failure retires it. */
  const use = async (work: (producer: Producer) => Promise<unknown>): Promise<void> => {
    current ??= open();
    const opened = current;
    try {
      await work(await opened);
    } catch (err) {
      retire(opened);
      throw err;
    }
  };
  return {
    connect: () => use(async () => {}),
    sendBatch: (batch) => use((producer) => producer.sendBatch(batch)),
    async disconnect() {
      const opened = current;
      current = undefined;
      if (opened) await (await opened.catch(() => undefined))?.disconnect();
    },
  };
}

/**
 * A start-up connection failure says it is Kafka's and, for a refused login, what to check. The
 * broker's own message names the mechanism, never the user name or the password.
 */
async function connectOrExplain(connect: () => Promise<void>): Promise<void> {
  try {
    await connect();
  } catch (err) {
    const login =
      (err as Error | null)?.name === 'KafkaJSSASLAuthenticationError'
        ? ' (check the SASL mechanism, user name and password)'
        : '';
    throw new Error(`Kafka: cannot connect: ${errorMessage(err)}${login}`, { cause: err });
  }
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
  await connectOrExplain(() => admin.connect());
  const producer = replacedAfterFailure(() =>
    kafka.producer({
      createPartitioner: CachedDefaultPartitioner,
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    }),
  );
  await connectOrExplain(() => producer.connect());
  /** Topics known to exist, with their partition count (read once, when first used). */
  const ensured = new Map<string, number>();
  const limits = opts.recordBatch ?? DEFAULT_RECORD_BATCH;
  // Groups messages by partition exactly as the producer would place each alone.
  const partitionOf = CachedDefaultPartitioner();
  const consumers = new Set<Subscription>();
  // Readiness asks the cluster directly, without the bus's retries (a probe must answer fast);
  // a consumer that crashed for good (kafkajs gave up restarting it) makes the bus not ready.
  const probe = kafka.admin({ retry: { retries: 0 } });
  let crashed = 0;
  const publishTimeoutMs = opts.publishTimeoutMs ?? 10_000;
  // Durability: a request resolves once the broker acknowledged it with acks=all.
  const sender = createCoalescingSender(async (request) => {
    await producer.sendBatch({
      acks: -1,
      topicMessages: request.map(({ topic, messages }) => ({
        topic,
        messages: toPartitionRecords(topic, messages, ensured.get(topic)!, partitionOf, limits).map((r) => ({
          key: r.key,
          value: r.value,
          headers: r.headers,
          partition: r.partition,
        })),
      })),
    });
  }, MAX_REQUEST_BYTES);

  // Concurrent first uses of a topic (a publish, the store and detect subscriptions) share one.
  const ensuring = new Map<string, Promise<void>>();
  function ensureTopic(topic: string): Promise<void> {
    if (ensured.has(topic)) return Promise.resolve();
    let pending = ensuring.get(topic);
    if (!pending) {
      pending = createOrReadTopic(topic).finally(() => ensuring.delete(topic));
      ensuring.set(topic, pending);
    }
    return pending;
  }

  async function createOrReadTopic(topic: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const existing = await admin.listTopics();
        if (!existing.includes(topic)) {
          await admin.createTopics({
            waitForLeaders: true,
            topics: [{ topic, numPartitions: opts.partitions }],
          });
        }
        // Publishes group their messages by partition with this count. A topic given more
        // partitions later moves keys as it would for one record per message; a restart reads it.
        const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
        ensured.set(topic, metadata?.partitions.length || opts.partitions);
        return;
      } catch (err) {
        // A topic just created (here or by another process) is unknown to a broker's metadata for a
        // moment (UNKNOWN_TOPIC_OR_PARTITION, "This server does not host this topic-partition",
        // retriable); kafkajs's leader wait does not retry it. Anything else, or the tenth try, fails.
        if (attempt >= 10 || (err as { retriable?: boolean } | null)?.retriable !== true) throw err;
        await delay(backoffDelayMs(attempt, TOPIC_METADATA_BACKOFF));
      }
    }
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
        const sent = sender.publish(full, messages);
        await Promise.race([
          sent.acked,
          new Promise((_, reject) => {
            timer = setTimeout(() => {
              sent.abandon();
              reject(new Error(`no broker ack within ${publishTimeoutMs} ms`));
            }, publishTimeoutMs);
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
          try {
            // Throwing leaves the offsets uncommitted: kafkajs retries and the records are redelivered.
            await handleRecords(
              batch.messages,
              maxBatch,
              (messages) => sub.handler(messages),
              async (offset) => {
                // resolveOffset moves this consumer's fetch position; commitOffsets makes it durable.
                resolveOffset(offset);
                await consumer.commitOffsets([
                  {
                    topic: batch.topic,
                    partition: batch.partition,
                    offset: (BigInt(offset) + 1n).toString(),
                  },
                ]);
                await heartbeat();
              },
              () => isRunning() && !isStale(),
              sub.records === 'as-is' ? asIs : readRecord,
            );
          } catch (err) {
            // A record of a newer format stops its partition here rather than being skipped (read after
            // the upgrade); a corrupt or forged one was handed over whole and dead-lettered.
            if ((err as Error | null)?.name === 'UnreadableRecordError')
              opts.onError?.(`consume ${full}`, err);
            throw err;
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
