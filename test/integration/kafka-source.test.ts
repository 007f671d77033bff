// The Kafka source: a topic of gateway events on the operator's cluster, consumed into the
// pipeline; undecodable messages are recorded without their content and skipped.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summary } from '../../src/store/index.js';
import { makeGenericEvent } from '../helpers/factories.js';
import { KAFKA_BROKERS, tempDataDir, uniqueName } from '../helpers/services.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';
import { waitFor } from '../helpers/wait.js';

describe('Kafka source', () => {
  let v: TestVigil;
  const topic = uniqueName('gateway-events');
  const tenant = uniqueName('ksrc');

  beforeAll(async () => {
    const dir = tempDataDir();
    const pipeline = path.join(dir, 'pipeline.yaml');
    writeFileSync(
      pipeline,
      `version: 1\nsources:\n  kafka:\n    enabled: true\n    topic: ${topic}\n    format: generic\n`,
    );
    const kafka = new Kafka({
      clientId: 'ksrc-producer',
      brokers: [KAFKA_BROKERS],
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    const events = Array.from({ length: 42 }, () =>
      makeGenericEvent({ tenant, user: 'grace.kafka@example.org' }),
    );
    await producer.send({
      topic,
      messages: [
        // One message of NDJSON with 20 events, 20 single-event messages, and one broken message.
        {
          key: 'a',
          value: events
            .slice(0, 20)
            .map((e) => JSON.stringify(e))
            .join('\n'),
        },
        ...events.slice(20, 40).map((e) => ({ key: 'b', value: JSON.stringify(e) })),
        // Records whose producer set vigil's batch header (forged, or a version no vigil writes):
        // the operator's topic is read as it is, so they are events like any other, never a stall.
        { key: 'b', value: JSON.stringify(events[40]), headers: { 'vigil.batch': '1' } },
        { key: 'b', value: JSON.stringify(events[41]), headers: { 'vigil.batch': '9' } },
        { key: 'c', value: '{"tenant":"x","user":"grace.kafka@example.org"}' },
      ],
    });
    await producer.disconnect();
    v = await startTestVigil({
      dataDir: dir,
      env: { VIGIL_PIPELINE: pipeline, KAFKA_BROKERS, KAFKA_TOPIC_PREFIX: `${uniqueName('ks')}.` },
    });
  });
  afterAll(async () => v?.stop());

  it('stores every valid event of the topic (batch headers or not) and records the bad message without its content', async () => {
    const s = await waitFor(
      () => summary(v.app.store.client, tenant),
      (x) => x.distinct_events === 42,
      { what: '42 events from the topic', timeoutMs: 60_000 },
    );
    expect(s.distinct_events).toBe(42);
    const deadLetters = async () => {
      return v.app.store.client.query<{ reason: string; row: string }>(
        'SELECT reason, row FROM dead_letters WHERE target = {t:String}',
        { t: `source:${topic}` },
      );
    };
    // The bad message may sit on another partition than the events: wait for it too.
    const rows = await waitFor(deadLetters, (r) => r.length > 0, { what: 'the dead-lettered message' });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.reason).toContain('time');
    expect(rows[0]!.row).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(JSON.stringify(rows)).not.toContain('grace.kafka');
  });
});
