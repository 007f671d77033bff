// vigil's Kafka bus on a secured cluster, configured the way an operator does it (environment →
// loadConfig → kafkaConnection → createKafkaBus): the test broker's TLS listener with a client
// certificate (mutual TLS), and its SASL_SSL listener with SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN.
// The broker's certificate is always checked against the CA; a broker the CA did not sign, a
// missing client certificate and a wrong password are refused, with errors that hold no secret.
// The listeners and the CA come from scripts/services.sh (`env` prints the VIGIL_TEST_KAFKA_* lines).
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Bus, createKafkaBus, kafkaClientOptions } from '../../src/bus/index.js';
import { kafkaConnection, loadConfig } from '../../src/config/index.js';
import { summary } from '../../src/store/index.js';
import { makeGenericEvent } from '../helpers/factories.js';
import { tempDataDir, uniqueName } from '../helpers/services.js';
import { startTestVigil } from '../helpers/vigil.js';
import { waitFor } from '../helpers/wait.js';

function fromServices(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: eval "$(bash scripts/services.sh env)" first`);
  return v;
}

const TLS_BROKERS = fromServices('VIGIL_TEST_KAFKA_TLS_BROKERS');
const SASL_BROKERS = fromServices('VIGIL_TEST_KAFKA_SASL_BROKERS');
const CA = fromServices('VIGIL_TEST_KAFKA_CA_FILE');
const CLIENT_CERT = fromServices('VIGIL_TEST_KAFKA_CLIENT_CERT_FILE');
const CLIENT_KEY = fromServices('VIGIL_TEST_KAFKA_CLIENT_KEY_FILE');
const USER = fromServices('VIGIL_TEST_KAFKA_SASL_USERNAME');
const PASSWORD = fromServices('VIGIL_TEST_KAFKA_SASL_PASSWORD');

/** A bus built from these variables exactly as `vigil serve` builds it. */
async function busFrom(env: Record<string, string>): Promise<Bus> {
  const config = loadConfig({ ...env, KAFKA_TOPIC_PREFIX: `${uniqueName('tls')}.` });
  const connection = kafkaConnection(config.env)!;
  return createKafkaBus({
    ...kafkaClientOptions(connection),
    clientId: 'vigil-test-tls',
    prefix: config.env.KAFKA_TOPIC_PREFIX,
    partitions: 1,
  });
}

/** Publishes three records and reads them back through a consumer group. */
async function roundTrip(bus: Bus): Promise<string[]> {
  const seen: string[] = [];
  const sub = await bus.subscribe({
    topic: 'roundtrip',
    group: 'roundtrip',
    handler: async (messages) => {
      for (const m of messages) seen.push(m.value.toString());
    },
  });
  try {
    const sent = ['a', 'b', 'c'].map((v) => `${v}-${randomBytes(4).toString('hex')}`);
    await bus.publish(
      'roundtrip',
      sent.map((v) => ({ key: 'k', value: Buffer.from(v) })),
    );
    await waitFor(
      () => seen.length,
      (n) => n >= sent.length,
      { what: 'the records back', timeoutMs: 30_000 },
    );
    expect(seen).toEqual(sent);
    return seen;
  } finally {
    await sub.stop();
  }
}

async function refusal(env: Record<string, string>): Promise<string> {
  try {
    const bus = await busFrom(env);
    await bus.close();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected the connection to be refused');
}

const sasl = (mechanism: string, extra: Record<string, string> = {}) => ({
  KAFKA_BROKERS: SASL_BROKERS,
  KAFKA_TLS: 'true',
  KAFKA_TLS_CA_FILE: CA,
  KAFKA_SASL_MECHANISM: mechanism,
  KAFKA_SASL_USERNAME: USER,
  ...extra,
});

describe('Kafka over TLS', () => {
  it('publishes and consumes with mutual TLS (broker checked against the CA, client certificate sent)', async () => {
    const bus = await busFrom({
      KAFKA_BROKERS: TLS_BROKERS,
      KAFKA_TLS: 'true',
      KAFKA_TLS_CA_FILE: CA,
      KAFKA_TLS_CERT_FILE: CLIENT_CERT,
      KAFKA_TLS_KEY_FILE: CLIENT_KEY,
    });
    try {
      await roundTrip(bus);
    } finally {
      await bus.close();
    }
  });

  it('refuses a broker whose certificate the CA did not sign, and is refused without a client certificate', async () => {
    const [unknownCa, noCert] = await Promise.all([
      // No KAFKA_TLS_CA_FILE: Node's public CAs, which did not sign the test broker.
      refusal({ ...sasl('scram-sha-256'), KAFKA_TLS_CA_FILE: '', KAFKA_SASL_PASSWORD: PASSWORD }),
      refusal({ KAFKA_BROKERS: TLS_BROKERS, KAFKA_TLS: 'true', KAFKA_TLS_CA_FILE: CA }),
    ]);
    expect(unknownCa).toMatch(/^Kafka: cannot connect: .*unable to verify the first certificate/);
    expect(noCert).toMatch(/^Kafka: cannot connect: .*(bad certificate|certificate required|alert)/i);
    for (const m of [unknownCa, noCert]) expect(m).not.toContain(PASSWORD);
  }, 60_000);
});

describe('Kafka over SASL_SSL', () => {
  it.each(['scram-sha-256', 'plain'])('publishes and consumes with %s', async (mechanism) => {
    const bus = await busFrom(sasl(mechanism, { KAFKA_SASL_PASSWORD: PASSWORD }));
    try {
      await roundTrip(bus);
    } finally {
      await bus.close();
    }
  });

  it('publishes and consumes with scram-sha-512, the password from a file (a mounted secret)', async () => {
    const file = path.join(tempDataDir(), 'kafka-password');
    writeFileSync(file, `${PASSWORD}\n`, { mode: 0o600 });
    const bus = await busFrom(sasl('scram-sha-512', { KAFKA_SASL_PASSWORD_FILE: file }));
    try {
      await roundTrip(bus);
    } finally {
      await bus.close();
    }
  });

  it.each(['scram-sha-256', 'scram-sha-512', 'plain'])(
    'refuses a wrong password with %s, saying what to check and holding no secret',
    async (mechanism) => {
      const wrong = `wrong-${randomBytes(6).toString('hex')}`;
      const message = await refusal(sasl(mechanism, { KAFKA_SASL_PASSWORD: wrong }));
      expect(message).toMatch(/^Kafka: cannot connect: SASL .*authentication failed/);
      expect(message).toContain('check the SASL mechanism, user name and password');
      expect(message).not.toContain(wrong);
      expect(message).not.toContain(PASSWORD);
    },
  );

  it('refuses a user the broker does not know, without naming it', async () => {
    const stranger = `stranger-${randomBytes(6).toString('hex')}`;
    const message = await refusal(
      sasl('scram-sha-512', { KAFKA_SASL_USERNAME: stranger, KAFKA_SASL_PASSWORD: PASSWORD }),
    );
    expect(message).toMatch(/authentication failed/);
    expect(message).not.toContain(stranger);
    expect(message).not.toContain(PASSWORD);
  });
});

describe('vigil serve on a secured cluster', () => {
  it('carries events from the collector to the store over SASL_SSL (SCRAM-SHA-512), as configured by the environment', async () => {
    const tenant = uniqueName('tls-app');
    const v = await startTestVigil({
      env: {
        ...sasl('scram-sha-512', { KAFKA_SASL_PASSWORD: PASSWORD }),
        KAFKA_TOPIC_PREFIX: `${uniqueName('tls-app')}.`,
        KAFKA_PARTITIONS: '1',
      },
      roles: ['collector', 'store'],
    });
    try {
      expect(v.app.bus.kind).toBe('kafka');
      const now = Date.now();
      const events = Array.from({ length: 20 }, (_, i) =>
        makeGenericEvent({ tenant, time: new Date(now - i * 1_000).toISOString() }),
      );
      expect((await v.post(events)).status).toBe(200);
      const stored = await waitFor(
        () => summary(v.app.store.client, tenant),
        (x) => x.distinct_events === events.length,
        { what: 'the events stored through Kafka', timeoutMs: 60_000 },
      );
      expect(stored.distinct_events).toBe(events.length);
    } finally {
      await v.stop();
    }
  }, 120_000);
});
