// The Bus: how stages hand records to each other. Two implementations share this contract —
// in-process (embedded mode) and Kafka (distributed mode) — so a stage never knows which it has.
import { jsonCopy } from './json-copy.js';

export { copyAccessEvent } from './access-event-copy.js';

export interface BusMessage {
  /** Partition key: tenant + actor token, so one identity's records stay ordered. */
  readonly key: string;
  readonly value: Buffer;
}

export type BatchHandler = (messages: BusMessage[]) => Promise<void>;

export interface SubscribeOptions {
  readonly topic: string;
  /** Consumer group: each group receives every record once; offsets are per group. */
  readonly group: string;
  readonly handler: BatchHandler;
  /**
   * In-process only: a publish is acknowledged only once every durable group has handled it
   * (the store consumer), so acknowledged means stored. Kafka acknowledges on broker ack.
   */
  readonly durable?: boolean;
  /** Largest batch handed to the handler. */
  readonly maxBatch?: number;
  /**
   * Kafka: how a record is read. `vigil` (default): a batch record of vigil's own format is unpacked
   * into its events. `as-is`: every record is one message, whatever its headers — for a topic other
   * producers write (the Kafka source), where a forged batch header must not decide how it is read.
   * In-process: ignored.
   */
  readonly records?: 'vigil' | 'as-is';
  /**
   * Batches handled at once, for handlers that mostly wait (an insert, findings being stored), so
   * one batch's wait does not hold up the next. Kafka: batches of different partitions (order
   * within a partition kept, each partition's offsets committed after its own batch). In-process:
   * consecutive batches of the log, handlers called and offsets committed in log order.
   * @defaultValue 1
   */
  readonly concurrency?: number;
  /**
   * Kafka: called on every group join of this member, the first included: partitions — and the
   * entities keyed to them — may have moved between members since the process started (a member
   * whose first join completes late, e.g. on a broker still electing its coordinator, is handed
   * partitions whose entities others checkpointed after this process loaded its state). In-process:
   * never (one consumer per group, nothing moves).
   */
  readonly onRebalance?: () => void;
}

export interface Subscription {
  /** Stops fetching, waits for the in-flight batch to finish and its offsets to be committed. */
  stop(): Promise<void>;
}

export interface Bus {
  readonly kind: 'kafka' | 'in-process';
  /**
   * Resolves once the messages are durable (Kafka: acknowledged by the broker with acks=all;
   * in-process: handled by every durable subscriber). Rejects with BackpressureError when the
   * bus cannot take them now.
   */
  publish(topic: string, messages: BusMessage[]): Promise<void>;
  subscribe(opts: SubscribeOptions): Promise<Subscription>;
  close(): Promise<void>;
  /** Whether the bus can carry records now (readiness): connected, and no consumer has died. */
  ready?(): Promise<boolean>;
}

export const TOPICS = {
  events: 'vigil.events.v1',
  findings: 'vigil.findings.v1',
} as const;

export function partitionKey(tenant: string, actor: string): string {
  return `${tenant}\u0000${actor}`;
}

export function encodeJson(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

const SNAPSHOT = Symbol('vigil.bus.json');
const COPIER = Symbol('vigil.bus.json-copier');
/** The snapshot is deep-frozen and handed to every consumer as it is (sharedJsonMessage). */
const SHARED = Symbol('vigil.bus.json-shared');

/**
 * A message carrying `value` as JSON. Its bytes are made only when a transport reads `value`
 * (Kafka); the in-process bus never does, and decodeJson hands each consumer a copy of the
 * snapshot taken here, equal to what a JSON round trip gives, without the text in between (a
 * third of the pipeline's per-event cost in embedded mode). The snapshot is taken now, so later
 * changes to `value` reach no consumer, exactly as with bytes.
 * @param copy makes the snapshot and each consumer's copy: `jsonCopy` or one specialised to the
 *   value's shape that gives the same (`copyAccessEvent`)
 * @throws TypeError where JSON.stringify would (BigInt, cycles, nothing to encode)
 */
export function jsonMessage(key: string, value: unknown, copy: JsonCopier = jsonCopy): BusMessage {
  const snapshot = copy(value);
  if (snapshot === undefined) throw new TypeError('bus message: value has no JSON form');
  return new JsonMessage(key, snapshot, copy);
}

/**
 * Like jsonMessage, but the snapshot is frozen (deeply) and every consumer on the in-process bus
 * gets that one read-only value instead of a copy of its own: for the event stream, which two
 * groups read (store and detect) and none changes, the two copies were the largest share of
 * what the pipeline allocates per event. A consumer that tried to change it would throw (modules
 * are strict); over Kafka each consumer parses its own, mutable, value as before.
 */
export function sharedJsonMessage(key: string, value: unknown, copy: JsonCopier = jsonCopy): BusMessage {
  const snapshot = copy(value);
  if (snapshot === undefined) throw new TypeError('bus message: value has no JSON form');
  const message = new JsonMessage(key, deepFreeze(snapshot), copy);
  message[SHARED] = true;
  return message;
}

/** Freezes a JSON value and every object and array in it. */
function deepFreeze(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v;
  for (const x of Object.values(v)) if (typeof x === 'object' && x !== null) deepFreeze(x);
  return Object.freeze(v);
}

/** A function returning exactly JSON.parse(JSON.stringify(value)) (undefined where that has none). */
export type JsonCopier = (value: unknown) => unknown;

/** A class rather than an object literal with a getter: no closure and accessor pair per message. */
class JsonMessage implements BusMessage {
  private bytes: Buffer | undefined;
  readonly [SNAPSHOT]: unknown;
  readonly [COPIER]: JsonCopier;
  [SHARED] = false;

  constructor(
    readonly key: string,
    snapshot: unknown,
    copy: JsonCopier,
  ) {
    this[SNAPSHOT] = snapshot;
    this[COPIER] = copy;
  }

  get value(): Buffer {
    this.bytes ??= Buffer.from(JSON.stringify(this[SNAPSHOT]));
    return this.bytes;
  }
}

export function decodeJson<T>(message: BusMessage): T {
  const m = message as { [SNAPSHOT]?: unknown; [COPIER]?: JsonCopier; [SHARED]?: boolean };
  if (m[SNAPSHOT] !== undefined) {
    if (m[SHARED]) return m[SNAPSHOT] as T;
    return (m[COPIER] ?? jsonCopy)(m[SNAPSHOT]) as T;
  }
  return JSON.parse(message.value.toString('utf8')) as T;
}
