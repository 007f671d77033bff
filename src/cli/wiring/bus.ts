// The bus between the stages: Kafka when KAFKA_BROKERS is set, else in-process. The cluster is
// parsed once (src/config/connections.ts) and serves both the stage bus and the Kafka source.
import { type Bus, createInProcessBus, createKafkaBus, kafkaClientOptions } from '../../bus/index.js';
import type { Env, KafkaConnection } from '../../config/index.js';
import { instrumentBus, type Metrics, type Telemetry } from '../../telemetry/index.js';

export type BusErrorHandler = (where: string, err: unknown) => void;

/** A Kafka client on the configured cluster, topics named `prefix` + name. */
export function openKafkaBus(
  kafka: KafkaConnection,
  env: Env,
  o: { clientId: string; prefix: string; onError: BusErrorHandler },
): Promise<Bus> {
  return createKafkaBus({
    ...kafkaClientOptions(kafka),
    clientId: o.clientId,
    prefix: o.prefix,
    partitions: env.KAFKA_PARTITIONS,
    // How many events a publish packs into one Kafka record (a consumer reads any size).
    recordBatch: { maxEvents: env.KAFKA_RECORD_MAX_EVENTS, maxBytes: env.KAFKA_RECORD_MAX_BYTES },
    onError: o.onError,
  });
}

/** The stage bus, traced and counted. */
export async function openStageBus(o: {
  kafka: KafkaConnection | undefined;
  env: Env;
  telemetry: Telemetry;
  metrics: Metrics;
  onError: BusErrorHandler;
}): Promise<Bus> {
  const bus = o.kafka
    ? await openKafkaBus(o.kafka, o.env, {
        clientId: o.env.KAFKA_CLIENT_ID,
        prefix: o.env.KAFKA_TOPIC_PREFIX,
        onError: o.onError,
      })
    : createInProcessBus({ onError: o.onError });
  return instrumentBus(bus, o.telemetry, o.metrics);
}
