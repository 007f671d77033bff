// Kafka source: consumes a configured topic carrying any supported format and feeds the same
// ingest as the HTTP collectors. Offsets advance only after the batch's events are durable;
// messages that cannot be understood are counted and recorded (reason + payload digest, never
// the payload: it carries raw identifiers) and skipped.
import { createHash } from 'node:crypto';
import type { Bus, Subscription } from '../../bus/index.js';
import type { AccessEvent } from '../../model/index.js';
import type { CollectorDeps } from '../deps.js';
import { countExpired } from '../normalize.js';
import type { Rejection } from '../reasons.js';

/** Decodes one message into events (a message may hold several, e.g. NDJSON or an OTLP batch). */
/** `rejected` may list only the first rejections; `rejectedCount` then counts them all. */
export type MessageDecoder = (
  value: Buffer,
  now: number,
) => { events: AccessEvent[]; rejected: Rejection[]; rejectedCount?: number; expiredCount?: number };

export interface KafkaSourceDeps extends CollectorDeps {
  /** A bus on the source cluster, with no topic prefix (the topic is named by the operator). */
  readonly bus: Bus;
  readonly topic: string;
  readonly group: string;
  readonly decode: MessageDecoder;
  readonly recordRejected: (reason: string, payloadDigest: string) => Promise<void>;
}

export async function startKafkaSource(deps: KafkaSourceDeps): Promise<Subscription> {
  return deps.bus.subscribe({
    topic: deps.topic,
    group: deps.group,
    maxBatch: 5_000,
    // The operator's topic: its records are read as they are, a batch header forged or not.
    records: 'as-is',
    handler: async (messages) => {
      const now = deps.now?.() ?? Date.now();
      const events: AccessEvent[] = [];
      for (const m of messages) {
        let decoded: ReturnType<MessageDecoder>;
        try {
          decoded = deps.decode(m.value, now);
        } catch (err) {
          decoded = {
            events: [],
            rejected: [
              {
                line: 0,
                reason:
                  err instanceof Error && err.name === 'HttpError' ? err.message : 'undecodable message',
              },
            ],
          };
        }
        events.push(...decoded.events);
        if (decoded.rejected.length) {
          deps.metrics.inc('source_kafka_rejected', decoded.rejectedCount ?? decoded.rejected.length);
          deps.metrics.inc('ingest_rejected_expired', decoded.expiredCount ?? countExpired(decoded.rejected));
          const digest = createHash('sha256').update(m.value).digest('hex').slice(0, 16);
          const reasons = decoded.rejected
            .map((r) => (r.line ? `line ${r.line}: ${r.reason}` : r.reason))
            .join('; ');
          await deps.recordRejected(reasons.slice(0, 1000), digest);
        }
      }
      // Durable before the offsets move: a crash here re-reads the batch, event_id folds repeats.
      await deps.ingest.submit(events);
      deps.metrics.inc('source_kafka_events', events.length);
    },
  });
}
