// A produce the broker wrote but whose answer was lost (the broker died between writing and
// answering): the publish fails, its caller resends. The next publish must still be written.
// kafkajs gives an idempotent producer's sequence numbers back when a send fails, so the next
// request carrying as many records to the partition had the very sequence range the broker had
// just written — the broker took it for a retry, acknowledged it and dropped it. The test's own
// broker behind a loopback proxy that loses one produce response (never the shared broker).
import { afterAll, describe, expect, it } from 'vitest';
import { type Bus, createKafkaBus } from '../../src/bus/index.js';
import { type FaultProxy, startFaultProxy } from '../helpers/kafka-fault-proxy.js';
import { type OwnKafka, startOwnKafka } from '../helpers/own-kafka.js';
import { uniqueName } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';

const messages = (label: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ key: 'one-key', value: Buffer.from(`${label}-${i}`) }));

describe('a produce written by the broker but answered to nobody', () => {
  let proxy: FaultProxy | undefined;
  let kafka: OwnKafka | undefined;
  let bus: Bus | undefined;
  afterAll(async () => {
    await bus?.close();
    await kafka?.destroy();
    await proxy?.close();
  });

  it('does not make the broker drop the next publish as its duplicate', async () => {
    proxy = await startFaultProxy();
    kafka = await startOwnKafka({ timeoutMs: 45_000, proxy });
    const errors: string[] = [];
    bus = await createKafkaBus({
      brokers: [kafka.brokers],
      clientId: 'vigil-test-lost-ack',
      prefix: `${uniqueName('la')}.`,
      partitions: 1,
      // The failure must come from the producer giving up, not from the caller's wait.
      publishTimeoutMs: 60_000,
      onError: (context) => errors.push(context),
    });
    await bus.publish('events', messages('before', 5));

    proxy.loseNextProduceResponse();
    await expect(bus.publish('events', messages('unanswered', 5))).rejects.toThrow(/kafka unavailable/);
    expect(proxy.lostResponses).toBe(1);
    proxy.heal();

    // The same count of records to the same partition as the unanswered request.
    await bus.publish('events', messages('after', 5));

    const seen = new Set<string>();
    await bus.subscribe({
      topic: 'events',
      group: 'reader',
      handler: async (batch) => {
        for (const m of batch) seen.add(m.value.toString());
      },
    });
    const wanted = [...messages('before', 5), ...messages('after', 5)].map((m) => m.value.toString());
    await waitFor(
      () => wanted.filter((v) => !seen.has(v)),
      (missing) => missing.length === 0,
      { timeoutMs: 30_000, what: 'every acknowledged message on the topic' },
    );
    // The unanswered request was written (the broker answered it; the answer was dropped).
    expect(seen.has('unanswered-0')).toBe(true);
    expect(errors.length).toBeGreaterThan(0);
  }, 120_000);
});
