// End to end in the distributed mode: real Kafka for the bus, BullMQ on real Redis for the
// responder, the ClickHouse engine for the store. Generic events in over HTTP → finding →
// incident → signed webhook received and verified; nothing raw on the topics.
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS } from '../../src/bus/index.js';
import { unpackRecord } from '../../src/bus/kafka-record-batch.js';
import { generateWorkload } from '../../src/cli/demo/workload.js';
import { listFindings, listIncidents, summary } from '../../src/store/index.js';
import { KAFKA_BROKERS, REDIS_URL, uniqueName } from '../helpers/services.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';
import { waitFor } from '../helpers/wait.js';

describe('distributed pipeline end to end (Kafka + Redis)', () => {
  let v: TestVigil;
  const tenant = 'e2e-distributed';
  const prefix = `${uniqueName('e2e')}.`;
  const workload = generateWorkload({ tenant, days: 4, people: 6, services: 2, seed: 11 });

  beforeAll(async () => {
    v = await startTestVigil({
      env: {
        KAFKA_BROKERS,
        KAFKA_TOPIC_PREFIX: prefix,
        KAFKA_PARTITIONS: '3',
        REDIS_URL,
        VIGIL_QUEUE_PREFIX: uniqueName('e2e-q'),
      },
    });
  });
  afterAll(async () => v?.stop());

  it('detects the burst and delivers a verified webhook through Kafka and BullMQ', async () => {
    expect(v.app.bus.kind).toBe('kafka');
    expect(v.app.queue?.kind).toBe('bullmq');
    for (let i = 0; i < workload.events.length; i += 5_000) {
      const res = await v.post(workload.events.slice(i, i + 5_000), { gzip: true });
      expect(res.status).toBe(200);
    }
    const attacker = v.app.tokenizer.token('actor', tenant, workload.attacker, 'user');
    const hooks = await waitFor(
      () => v.receiver.received,
      (r) => r.some((w) => w.verified),
      { what: 'a verified webhook', timeoutMs: 90_000 },
    );
    const incidents = await waitFor(
      () => listIncidents(v.app.store.client, { tenant }),
      (i) => i.length > 0,
      { what: 'an incident row' },
    );
    expect(incidents.map((i) => i.actor)).toEqual([attacker]);
    expect(hooks.find((h) => h.verified)!.body).toMatchObject({
      incident: { id: incidents[0]!.incident_id },
    });
    // The findings table is fed by its own consumer group: it may trail the responder.
    const findings = await waitFor(
      () => listFindings(v.app.store.client, { tenant }),
      (fs) => fs.some((f) => f.actor === attacker && f.observed > f.band_high),
      { what: 'the burst finding stored' },
    );
    expect(findings.every((f) => f.actor === attacker)).toBe(true);
    const stored = await waitFor(
      () => summary(v.app.store.client, tenant),
      (s) => s.distinct_events === workload.events.length,
      { what: 'every event stored' },
    );
    expect(stored.distinct_events).toBe(workload.events.length);

    // What crossed the bus carries tokens only. Several events travel in one record: each is read
    // out of its record (src/bus/kafka-record-batch.ts) and counted and checked on its own.
    const kafka = new Kafka({ clientId: 'e2e-reader', brokers: [KAFKA_BROKERS], logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: uniqueName('reader') });
    await consumer.connect();
    await consumer.subscribe({
      topics: [`${prefix}${TOPICS.events}`, `${prefix}${TOPICS.findings}`],
      fromBeginning: true,
    });
    let seen = 0;
    let raw = 0;
    await consumer.run({
      eachMessage: async ({ message }) => {
        for (const m of unpackRecord(message.key, message.value, message.headers)) {
          seen++;
          const text = `${m.key}\n${m.value.toString()}`;
          if (
            text.includes('@acme.example') ||
            text.includes('203.0.113.77') ||
            text.includes(workload.attacker)
          )
            raw++;
        }
      },
    });
    await waitFor(
      () => seen,
      (n) => n >= workload.events.length,
      { what: 'topic read back', timeoutMs: 60_000 },
    );
    await consumer.disconnect();
    expect(raw).toBe(0);
  }, 240_000);
});
