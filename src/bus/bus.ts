// The Bus: how stages hand records to each other. Two implementations share this contract —
// in-process (embedded mode) and Kafka (distributed mode) — so a stage never knows which it has.

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

export function decodeJson<T>(message: BusMessage): T {
  return JSON.parse(message.value.toString('utf8')) as T;
}
