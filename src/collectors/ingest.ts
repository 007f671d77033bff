// The collectors' single exit: accepted AccessEvents go to the events topic, keyed by tenant+actor.
// `submit` resolves when the bus says the events are durable; only then may a collector answer
// 2xx. When too many events are in flight it refuses at once (BackpressureError → 429/503).
import { type Bus, copyAccessEvent, partitionKey, sharedJsonMessage, TOPICS } from '../bus/index.js';
import { type AccessEvent, BackpressureError, PREVIOUS_TOKEN_ATTRIBUTES } from '../model/index.js';

export interface Ingest {
  submit(events: AccessEvent[]): Promise<void>;
  readonly inflight: () => number;
}

export interface IngestDeps {
  readonly bus: Bus;
  readonly maxInflight: number;
  /** Longest wait for durability before the sender is told to retry. @defaultValue 30000 */
  readonly durableTimeoutMs?: number;
  readonly onDurable?: (count: number) => void;
  /**
   * After a key rotation: the previous token of a token this process made. Stamped on events as
   * attributes `vigil.prev.actor|credential|src_net` so detectors carry baselines over.
   */
  readonly previousToken?: (token: string) => string | undefined;
}

function stampPrevious(e: AccessEvent, previousToken: (token: string) => string | undefined): void {
  for (const [field, attribute] of Object.entries(PREVIOUS_TOKEN_ATTRIBUTES) as Array<
    [keyof typeof PREVIOUS_TOKEN_ATTRIBUTES, string]
  >) {
    const prev = e[field] ? previousToken(e[field]) : undefined;
    if (prev) e.attributes[attribute] = prev;
  }
}

export function createIngest(deps: IngestDeps): Ingest {
  let inflight = 0;
  const timeoutMs = deps.durableTimeoutMs ?? 30_000;
  return {
    inflight: () => inflight,
    async submit(events) {
      if (events.length === 0) return;
      if (inflight + events.length > deps.maxInflight && inflight > 0) {
        throw new BackpressureError(`pipeline saturated: ${inflight} events in flight`, 1, 'saturated');
      }
      inflight += events.length;
      if (deps.previousToken) for (const e of events) stampPrevious(e, deps.previousToken);
      let timer: NodeJS.Timeout | undefined;
      try {
        const messages = events.map((e) =>
          sharedJsonMessage(partitionKey(e.tenant, e.actor), e, copyAccessEvent),
        );
        await Promise.race([
          deps.bus.publish(TOPICS.events, messages),
          new Promise<never>((_, reject) => {
            // Not acknowledged: the sender retries, and event_id deduplicates whatever did land.
            timer = setTimeout(
              () => reject(new BackpressureError(`events not durable within ${timeoutMs} ms`, 2)),
              timeoutMs,
            );
          }),
        ]);
        deps.onDurable?.(events.length);
      } finally {
        clearTimeout(timer);
        inflight -= events.length;
      }
    },
  };
}
