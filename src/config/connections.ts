// How vigil reaches Kafka, Redis and a ClickHouse server: brokers, URLs, TLS material and
// credentials from the parsed environment, the files read once at start-up. A file that cannot
// be read refuses to start naming its variable and path (never its content). Certificates are
// always verified: no setting turns verification off. The shapes are Node's TLS options; each
// client library's own wiring lives with the code that makes the client (src/bus, src/respond,
// src/store, src/telemetry).
import { readFileSync } from 'node:fs';
import { ConfigError, type Env, type KAFKA_SASL_MECHANISMS } from './config.js';

/** PEM material for Node's TLS: a CA to check the server against, a client certificate and key. */
export interface TlsMaterial {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

export interface KafkaConnection {
  readonly brokers: string[];
  /** TLS to every broker (certificates verified); an empty object: Node's public CAs. */
  readonly tls?: TlsMaterial;
  readonly sasl?: {
    readonly mechanism: (typeof KAFKA_SASL_MECHANISMS)[number];
    readonly username: string;
    readonly password: string;
  };
}

export interface RedisConnection {
  /** `redis://` or `rediss://` (TLS), with the password if any. */
  readonly url: string;
  /** With `rediss://`: a CA and a client certificate; undefined: Node's public CAs. */
  readonly tls?: TlsMaterial;
}

export interface ClickHouseServerConnection {
  readonly url: string;
  readonly username: string;
  readonly password: string;
  /** @clickhouse/client's TLS options: its CA (required there), and a client certificate. */
  readonly tls?: { readonly ca_cert: Buffer; readonly cert?: Buffer; readonly key?: Buffer };
}

type FileKey =
  | 'KAFKA_TLS_CA_FILE'
  | 'KAFKA_TLS_CERT_FILE'
  | 'KAFKA_TLS_KEY_FILE'
  | 'KAFKA_SASL_PASSWORD_FILE'
  | 'REDIS_TLS_CA_FILE'
  | 'REDIS_TLS_CERT_FILE'
  | 'REDIS_TLS_KEY_FILE'
  | 'CLICKHOUSE_TLS_CA_FILE'
  | 'CLICKHOUSE_TLS_CERT_FILE'
  | 'CLICKHOUSE_TLS_KEY_FILE';

function readSetting(env: Env, key: FileKey): Buffer | undefined {
  const file = env[key];
  if (!file) return undefined;
  let content: Buffer;
  try {
    content = readFileSync(file);
  } catch (err) {
    throw new ConfigError(`${key}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (content.length === 0) throw new ConfigError(`${key}: ${file} is empty`);
  return content;
}

function tlsMaterial(env: Env, prefix: 'KAFKA' | 'REDIS'): TlsMaterial {
  const out: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {};
  const ca = readSetting(env, `${prefix}_TLS_CA_FILE`);
  const cert = readSetting(env, `${prefix}_TLS_CERT_FILE`);
  const key = readSetting(env, `${prefix}_TLS_KEY_FILE`);
  if (ca) out.ca = ca;
  if (cert) out.cert = cert;
  if (key) out.key = key;
  return out;
}

/** The Kafka cluster of the bus and the source; undefined without KAFKA_BROKERS (in-process bus). */
export function kafkaConnection(env: Env): KafkaConnection | undefined {
  if (!env.KAFKA_BROKERS) return undefined;
  const brokers = env.KAFKA_BROKERS.split(',').map((b) => b.trim());
  const tls = env.KAFKA_TLS ? tlsMaterial(env, 'KAFKA') : undefined;
  if (!env.KAFKA_SASL_MECHANISM) return { brokers, tls };
  // A mounted secret file usually ends with a newline that is not part of the password.
  const password =
    env.KAFKA_SASL_PASSWORD ??
    readSetting(env, 'KAFKA_SASL_PASSWORD_FILE')!
      .toString('utf8')
      .replace(/\r?\n$/, '');
  if (!password) throw new ConfigError('KAFKA_SASL_PASSWORD_FILE: holds no password');
  return {
    brokers,
    tls,
    sasl: { mechanism: env.KAFKA_SASL_MECHANISM, username: env.KAFKA_SASL_USERNAME!, password },
  };
}

/** The Redis of the BullMQ queue and the guardrails; undefined without REDIS_URL (in-process). */
export function redisConnection(env: Env): RedisConnection | undefined {
  if (!env.REDIS_URL) return undefined;
  const tls = tlsMaterial(env, 'REDIS');
  return Object.keys(tls).length ? { url: env.REDIS_URL, tls } : { url: env.REDIS_URL };
}

/** The ClickHouse server; undefined without CLICKHOUSE_URL (the embedded engine). */
export function clickhouseConnection(env: Env): ClickHouseServerConnection | undefined {
  if (!env.CLICKHOUSE_URL) return undefined;
  const ca = readSetting(env, 'CLICKHOUSE_TLS_CA_FILE');
  const cert = readSetting(env, 'CLICKHOUSE_TLS_CERT_FILE');
  const key = readSetting(env, 'CLICKHOUSE_TLS_KEY_FILE');
  return {
    url: env.CLICKHOUSE_URL,
    username: env.CLICKHOUSE_USER,
    password: env.CLICKHOUSE_PASSWORD,
    tls: ca ? { ca_cert: ca, ...(cert && key ? { cert, key } : {}) } : undefined,
  };
}
