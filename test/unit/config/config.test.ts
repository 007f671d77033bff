// Configuration: env + pipeline YAML parsed once, defaults, modes, errors that name the key, frozen.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kafkaClientOptions } from '../../../src/bus/kafka.bus.js';
import { ConfigError, loadConfig, loadPipeline } from '../../../src/config/config.js';
import { clickhouseConnection, kafkaConnection, redisConnection } from '../../../src/config/connections.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'vigil-config-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let fileSeq = 0;
function pipelineFile(yaml: string): string {
  const file = path.join(tmp, `pipeline-${++fileSeq}.yaml`);
  writeFileSync(file, yaml);
  return file;
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).name).toBe('ConfigError');
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig: defaults', () => {
  const config = loadConfig({});

  it('chooses the embedded mode when no Kafka, ClickHouse or Redis is configured', () => {
    expect(config.mode).toEqual({ bus: 'in-process', store: 'embedded', queue: 'in-process' });
  });

  it('gives typed defaults', () => {
    expect(config.env.VIGIL_COLLECTOR_PORT).toBe(8088);
    expect(config.env.VIGIL_ADMIN_PORT).toBe(8089);
    expect(config.env.VIGIL_HOST).toBe('127.0.0.1');
    expect(config.env.VIGIL_WRITER_MAX_AGE).toBe(250);
    expect(config.env.VIGIL_MAX_BODY_BYTES).toBe(16 * 1024 * 1024);
    expect(config.env.VIGIL_TOKEN_KEY_VERSION).toBe(1);
    expect(config.env.VIGIL_TOKEN_KEY).toBeUndefined();
    expect(config.env.VIGIL_DEMO_FAST).toBeUndefined();
    expect(config.dataDir).toBe(path.resolve('./.vigil'));
  });

  it('loads the default pipeline with durations in milliseconds', () => {
    expect(config.pipeline.version).toBe(1);
    expect(config.pipeline.detectors['volume-spike']).toMatchObject({
      enabled: true,
      window: 600_000,
      min_count: 50,
    });
    expect(config.pipeline.response.incident_group_window).toBe(3_600_000);
    expect(config.pipeline.response.actions[0]).toMatchObject({ type: 'webhook', timeout: 5_000 });
  });

  it('treats blank connection strings as unset', () => {
    expect(loadConfig({ KAFKA_BROKERS: '  ', CLICKHOUSE_URL: '', REDIS_URL: ' ' }).mode).toEqual(config.mode);
  });
});

describe('loadConfig: distributed mode', () => {
  it('chooses Kafka, the ClickHouse server and BullMQ when they are configured', () => {
    const c = loadConfig({
      KAFKA_BROKERS: 'localhost:9092',
      CLICKHOUSE_URL: 'http://localhost:8123',
      REDIS_URL: 'redis://localhost:6379',
    });
    expect(c.mode).toEqual({ bus: 'kafka', store: 'server', queue: 'bullmq' });
  });

  it('chooses each transport independently', () => {
    expect(loadConfig({ REDIS_URL: 'redis://localhost:6379' }).mode).toEqual({
      bus: 'in-process',
      store: 'embedded',
      queue: 'bullmq',
    });
  });
});

describe('loadConfig: values', () => {
  it('coerces numbers, durations and booleans', () => {
    const c = loadConfig({ VIGIL_ADMIN_PORT: '9000', VIGIL_WRITER_MAX_AGE: '2s', VIGIL_DEMO_FAST: 'true' });
    expect(c.env.VIGIL_ADMIN_PORT).toBe(9000);
    expect(c.env.VIGIL_WRITER_MAX_AGE).toBe(2_000);
    expect(c.env.VIGIL_DEMO_FAST).toBe(true);
    expect(loadConfig({ VIGIL_DEMO_FAST: '0' }).env.VIGIL_DEMO_FAST).toBe(false);
  });

  it('lets overrides win over the environment', () => {
    const c = loadConfig(
      { VIGIL_COLLECTOR_PORT: '1234' },
      { VIGIL_COLLECTOR_PORT: '0', VIGIL_ADMIN_PORT: '0' },
    );
    expect(c.env.VIGIL_COLLECTOR_PORT).toBe(0);
    expect(c.env.VIGIL_ADMIN_PORT).toBe(0);
  });

  it('is frozen all the way down', () => {
    const c = loadConfig({});
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.env)).toBe(true);
    expect(Object.isFrozen(c.mode)).toBe(true);
    expect(Object.isFrozen(c.pipeline.detectors['volume-spike'])).toBe(true);
    expect(Object.isFrozen(c.pipeline.response.actions)).toBe(true);
    expect(() => {
      (c.env as { VIGIL_ADMIN_PORT: number }).VIGIL_ADMIN_PORT = 1;
    }).toThrow(TypeError);
    expect(c.env.VIGIL_ADMIN_PORT).toBe(8089);
  });
});

describe('loadConfig: errors name the key', () => {
  it.each([
    ['VIGIL_ADMIN_PORT', { VIGIL_ADMIN_PORT: 'abc' }],
    ['VIGIL_COLLECTOR_PORT', { VIGIL_COLLECTOR_PORT: '70000' }],
    ['VIGIL_MAX_BODY_BYTES', { VIGIL_MAX_BODY_BYTES: '-1' }],
    ['VIGIL_LOG_LEVEL', { VIGIL_LOG_LEVEL: 'loud' }],
    ['VIGIL_WRITER_MAX_AGE', { VIGIL_WRITER_MAX_AGE: 'soon' }],
    ['VIGIL_DEMO_FAST', { VIGIL_DEMO_FAST: 'maybe' }],
    ['CLICKHOUSE_DATABASE', { CLICKHOUSE_DATABASE: 'vigil; DROP TABLE x' }],
    ['VIGIL_TOKEN_KEY_VERSION', { VIGIL_TOKEN_KEY_VERSION: '0' }],
    ['VIGIL_MAX_ITEMS_PER_REQUEST', { VIGIL_MAX_ITEMS_PER_REQUEST: '0' }],
    ['VIGIL_MAX_ITEMS_PER_REQUEST', { VIGIL_MAX_ITEMS_PER_REQUEST: 'many' }],
    ['VIGIL_REQUEST_TIMEOUT', { VIGIL_REQUEST_TIMEOUT: '10ms' }],
    ['VIGIL_REQUEST_TIMEOUT', { VIGIL_REQUEST_TIMEOUT: 'forever' }],
    ['VIGIL_AUTH_FAILURE_LIMIT', { VIGIL_AUTH_FAILURE_LIMIT: '0' }],
    ['VIGIL_AUTH_FAILURE_WINDOW', { VIGIL_AUTH_FAILURE_WINDOW: 'soon' }],
  ])('rejects a bad %s', (key, env) => {
    const err = configError(() => loadConfig(env));
    expect(err.message).toContain(`${key}:`);
  });

  it('gives the hostile-sender limits their defaults and units', () => {
    const { env } = loadConfig({});
    expect(env.VIGIL_MAX_ITEMS_PER_REQUEST).toBe(50_000);
    expect(env.VIGIL_REQUEST_TIMEOUT).toBe(30_000);
    expect(env.VIGIL_AUTH_FAILURE_LIMIT).toBe(20);
    expect(env.VIGIL_AUTH_FAILURE_WINDOW).toBe(60_000);
    const set = loadConfig({ VIGIL_REQUEST_TIMEOUT: '5s', VIGIL_AUTH_FAILURE_WINDOW: '10m' }).env;
    expect([set.VIGIL_REQUEST_TIMEOUT, set.VIGIL_AUTH_FAILURE_WINDOW]).toEqual([5_000, 600_000]);
  });

  it('names every bad key at once', () => {
    const err = configError(() => loadConfig({ VIGIL_ADMIN_PORT: 'abc', VIGIL_LOG_LEVEL: 'loud' }));
    expect(err.message).toContain('VIGIL_ADMIN_PORT');
    expect(err.message).toContain('VIGIL_LOG_LEVEL');
  });

  it('rejects a collector port equal to the admin port', () => {
    const err = configError(() => loadConfig({ VIGIL_COLLECTOR_PORT: '9000', VIGIL_ADMIN_PORT: '9000' }));
    expect(err.message).toContain('VIGIL_ADMIN_PORT: must differ from VIGIL_COLLECTOR_PORT');
  });

  it('rejects the collector port set to the default admin port', () => {
    expect(configError(() => loadConfig({ VIGIL_COLLECTOR_PORT: '8089' })).message).toContain(
      'VIGIL_ADMIN_PORT',
    );
  });

  it('rejects a TLS certificate without its key, and a key without its certificate', () => {
    const a = configError(() => loadConfig({ CLICKHOUSE_TLS_CERT_FILE: '/etc/cert.pem' }));
    expect(a.message).toContain('CLICKHOUSE_TLS_CERT_FILE');
    expect(a.message).toContain('CLICKHOUSE_TLS_KEY_FILE');
    const b = configError(() => loadConfig({ CLICKHOUSE_TLS_KEY_FILE: '/etc/key.pem' }));
    expect(b.message).toContain('CLICKHOUSE_TLS_CERT_FILE');
  });

  it('accepts a TLS certificate with its key', () => {
    const c = loadConfig({
      CLICKHOUSE_URL: 'https://clickhouse.example:8443',
      CLICKHOUSE_TLS_CA_FILE: '/etc/ca.pem',
      CLICKHOUSE_TLS_CERT_FILE: '/etc/cert.pem',
      CLICKHOUSE_TLS_KEY_FILE: '/etc/key.pem',
    });
    expect(c.env.CLICKHOUSE_TLS_CERT_FILE).toBe('/etc/cert.pem');
  });

  it('names VIGIL_PIPELINE when the file does not exist', () => {
    const err = configError(() => loadConfig({ VIGIL_PIPELINE: path.join(tmp, 'missing.yaml') }));
    expect(err.message).toContain('VIGIL_PIPELINE');
  });
});

describe('loadPipeline', () => {
  it('fills every default from a minimal file', () => {
    const p = loadPipeline(pipelineFile('version: 1\n'));
    expect(p.sources.generic).toEqual({ enabled: true, token_env: 'VIGIL_SOURCE_TOKEN_GENERIC' });
    expect(p.detectors['volume-spike']).toEqual({
      enabled: true,
      window: 600_000,
      warmup_hours: 24,
      min_count: 50,
      threshold_sigmas: 6,
      history_per_slot: 8,
      adapt_after: 6,
    });
    expect(p.response).toMatchObject({
      incident_min_score: 0.7,
      incident_group_window: 3_600_000,
      max_attempts: 8,
      actions: [],
    });
    expect(p.suppressions).toEqual([]);
    expect(p.feedback_ttl).toBe(14 * 86_400_000);
  });

  it('is what loadConfig uses for VIGIL_PIPELINE', () => {
    const file = pipelineFile('version: 1\ndetectors:\n  volume-spike:\n    window: 5m\n');
    expect(loadConfig({ VIGIL_PIPELINE: file }).pipeline.detectors['volume-spike'].window).toBe(300_000);
  });

  it('names the path of an unknown key', () => {
    const file = pipelineFile('version: 1\ndetectors:\n  volume-spike:\n    windw: 10m\n');
    const err = configError(() => loadPipeline(file));
    expect(err.message).toContain(file);
    expect(err.message).toContain('detectors.volume-spike');
    expect(err.message).toContain('windw');
  });

  it('names an unknown detector', () => {
    const err = configError(() => loadPipeline(pipelineFile('version: 1\ndetectors:\n  exfil-magic: {}\n')));
    expect(err.message).toContain('detectors');
    expect(err.message).toContain('exfil-magic');
  });

  it('names the path of a bad duration', () => {
    const err = configError(() =>
      loadPipeline(pipelineFile('version: 1\nresponse:\n  incident_group_window: an hour or so\n')),
    );
    expect(err.message).toContain('response.incident_group_window:');
  });

  it.each(['7m', '90m', '30s', '2h'])(
    'rejects a window of %s, which does not divide an hour from 1m to 1h',
    (w) => {
      const err = configError(() =>
        loadPipeline(pipelineFile(`version: 1\ndetectors:\n  volume-spike:\n    window: ${w}\n`)),
      );
      expect(err.message).toContain('detectors.volume-spike.window: must divide an hour');
    },
  );

  it.each([
    ['1m', 60_000],
    ['15m', 900_000],
    ['1h', 3_600_000],
  ])('accepts a window of %s', (w, ms) => {
    const p = loadPipeline(pipelineFile(`version: 1\ndetectors:\n  volume-spike:\n    window: ${w}\n`));
    expect(p.detectors['volume-spike'].window).toBe(ms);
  });

  it('names the path inside the action list', () => {
    const err = configError(() =>
      loadPipeline(
        pipelineFile('version: 1\nresponse:\n  actions:\n    - type: webhook\n      mode: yolo\n'),
      ),
    );
    expect(err.message).toContain('response.actions.0.mode');
  });

  it('rejects another version', () => {
    expect(configError(() => loadPipeline(pipelineFile('version: 2\n'))).message).toContain('version');
  });

  it('says the file is not YAML', () => {
    const err = configError(() => loadPipeline(pipelineFile('version: 1\n  bad: [indent\n')));
    expect(err.message).toContain('cannot read YAML');
  });
});

describe('loadConfig: Kafka, Redis and ClickHouse security settings', () => {
  const kafka = { KAFKA_BROKERS: 'b1.example:9093,b2.example:9093' };
  const scram = { ...kafka, KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'svc' };

  it.each([
    [
      'a TLS file without KAFKA_TLS=true',
      { ...kafka, KAFKA_TLS_CA_FILE: '/ca.pem' },
      'KAFKA_TLS_CA_FILE: needs KAFKA_TLS=true',
    ],
    [
      'a client certificate without its key',
      { ...kafka, KAFKA_TLS: 'true', KAFKA_TLS_CERT_FILE: '/c.pem' },
      'KAFKA_TLS_CERT_FILE: KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE must be set together',
    ],
    [
      'Kafka security without brokers',
      { KAFKA_TLS: 'true', KAFKA_SASL_USERNAME: 'svc' },
      'KAFKA_SASL_USERNAME: needs KAFKA_BROKERS',
    ],
    [
      'a mechanism without a user',
      { ...kafka, KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_PASSWORD: 'p' },
      'KAFKA_SASL_USERNAME: is needed by KAFKA_SASL_MECHANISM',
    ],
    [
      'a mechanism without a password',
      scram,
      'KAFKA_SASL_PASSWORD: set exactly one of KAFKA_SASL_PASSWORD and KAFKA_SASL_PASSWORD_FILE',
    ],
    [
      'both a password and a password file',
      { ...scram, KAFKA_SASL_PASSWORD: 'p', KAFKA_SASL_PASSWORD_FILE: '/pw' },
      'KAFKA_SASL_PASSWORD: set exactly one of',
    ],
    [
      'a user without a mechanism',
      { ...kafka, KAFKA_SASL_USERNAME: 'svc', KAFKA_SASL_PASSWORD: 'p' },
      'KAFKA_SASL_USERNAME: needs KAFKA_SASL_MECHANISM',
    ],
    [
      'PLAIN without TLS (the password would cross the network as it is)',
      { ...kafka, KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'svc', KAFKA_SASL_PASSWORD: 'p' },
      'KAFKA_SASL_MECHANISM: plain sends the password as it is: it needs KAFKA_TLS=true',
    ],
    [
      'a Redis CA with redis://',
      { REDIS_URL: 'redis://r:6379', REDIS_TLS_CA_FILE: '/ca.pem' },
      'REDIS_TLS_CA_FILE: needs a rediss:// REDIS_URL',
    ],
    [
      'a Redis client certificate without its key',
      { REDIS_URL: 'rediss://r:6380', REDIS_TLS_CERT_FILE: '/c.pem' },
      'REDIS_TLS_CERT_FILE: REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE must be set together',
    ],
    [
      'a ClickHouse CA with http://',
      { CLICKHOUSE_URL: 'http://ch:8123', CLICKHOUSE_TLS_CA_FILE: '/ca.pem' },
      'CLICKHOUSE_TLS_CA_FILE: needs an https:// CLICKHOUSE_URL',
    ],
    [
      'a ClickHouse client certificate without a CA',
      {
        CLICKHOUSE_URL: 'https://ch:8443',
        CLICKHOUSE_TLS_CERT_FILE: '/c.pem',
        CLICKHOUSE_TLS_KEY_FILE: '/k.pem',
      },
      'CLICKHOUSE_TLS_CERT_FILE: a client certificate needs CLICKHOUSE_TLS_CA_FILE too',
    ],
  ])('refuses %s', (_what, env, expected) => {
    const err = configError(() => loadConfig(env));
    expect(err.message).toContain(expected);
    expect(err.message).not.toMatch(/: p$|'p'|"p"/m);
  });

  it('accepts SCRAM over plaintext, PLAIN over TLS, and TLS with the public CAs', () => {
    expect(loadConfig({ ...scram, KAFKA_SASL_PASSWORD: 'p' }).env.KAFKA_SASL_MECHANISM).toBe('scram-sha-512');
    expect(
      loadConfig({ ...scram, KAFKA_SASL_MECHANISM: 'plain', KAFKA_TLS: 'true', KAFKA_SASL_PASSWORD: 'p' }).env
        .KAFKA_TLS,
    ).toBe(true);
    expect(kafkaConnection(loadConfig({ ...kafka, KAFKA_TLS: 'true' }).env)).toEqual({
      brokers: ['b1.example:9093', 'b2.example:9093'],
      tls: {},
    });
  });

  it('reads the TLS files and the password file once, as client options', () => {
    const ca = pipelineFile('-----BEGIN CERTIFICATE-----\nca\n');
    const pw = pipelineFile('s3cret\n');
    const c = kafkaConnection(
      loadConfig({ ...scram, KAFKA_TLS: 'true', KAFKA_TLS_CA_FILE: ca, KAFKA_SASL_PASSWORD_FILE: pw }).env,
    )!;
    expect(c.tls?.ca?.toString()).toContain('BEGIN CERTIFICATE');
    expect(c.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'svc', password: 's3cret' });
    expect(kafkaClientOptions(c)).toMatchObject({
      brokers: c.brokers,
      ssl: { ca: c.tls!.ca },
      sasl: { mechanism: 'scram-sha-512', username: 'svc', password: 's3cret' },
    });
    expect(kafkaClientOptions(kafkaConnection(loadConfig(kafka).env)!)).toEqual({
      brokers: ['b1.example:9093', 'b2.example:9093'],
      ssl: undefined,
      sasl: undefined,
    });
    const redis = redisConnection(
      loadConfig({ REDIS_URL: 'rediss://:pw@r:6380/2', REDIS_TLS_CA_FILE: ca }).env,
    )!;
    expect(redis.url).toBe('rediss://:pw@r:6380/2');
    expect(redis.tls?.ca?.toString()).toContain('BEGIN CERTIFICATE');
    expect(redisConnection(loadConfig({ REDIS_URL: 'redis://r:6379' }).env)).toEqual({
      url: 'redis://r:6379',
    });
    const ch = clickhouseConnection(
      loadConfig({
        CLICKHOUSE_URL: 'https://ch:8443',
        CLICKHOUSE_USER: 'w',
        CLICKHOUSE_PASSWORD: 'x',
        CLICKHOUSE_TLS_CA_FILE: ca,
      }).env,
    )!;
    expect(ch).toMatchObject({ url: 'https://ch:8443', username: 'w', password: 'x' });
    expect(ch.tls?.ca_cert.toString()).toContain('BEGIN CERTIFICATE');
  });

  it('names the variable of a file it cannot read, or that is empty', () => {
    const missing = path.join(tmp, 'nope.pem');
    expect(() =>
      kafkaConnection(loadConfig({ ...kafka, KAFKA_TLS: 'true', KAFKA_TLS_CA_FILE: missing }).env),
    ).toThrow(`KAFKA_TLS_CA_FILE: cannot read ${missing} (ENOENT)`);
    const empty = pipelineFile('');
    expect(() => kafkaConnection(loadConfig({ ...scram, KAFKA_SASL_PASSWORD_FILE: empty }).env)).toThrow(
      `KAFKA_SASL_PASSWORD_FILE: ${empty} is empty`,
    );
    expect(() =>
      redisConnection(loadConfig({ REDIS_URL: 'rediss://r:6380', REDIS_TLS_CA_FILE: missing }).env),
    ).toThrow(ConfigError);
  });
});
