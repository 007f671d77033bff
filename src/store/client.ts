// The one place a ClickHouse client is made: the embedded engine (chDB behind @clickhouse/client)
// by default, a ClickHouse server over HTTP(S) when CLICKHOUSE_URL is set. Everything else sees
// only the @clickhouse/client API.
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type ClickHouseClient, createClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import type { Env } from '../config/index.js';

export type StoreClient = ClickHouseClient;

export interface StoreHandle {
  readonly client: StoreClient;
  readonly kind: 'embedded' | 'server';
  readonly database: string;
  close(): Promise<void>;
}

/** Thrown when the embedded data directory is held by another process. */
export class StoreLockedError extends Error {
  override readonly name = 'StoreLockedError';
}

export async function openStore(env: Env, dataDir: string): Promise<StoreHandle> {
  const database = env.CLICKHOUSE_DATABASE;
  if (env.CLICKHOUSE_URL) {
    const tls = env.CLICKHOUSE_TLS_CA_FILE
      ? {
          ca_cert: readFileSync(env.CLICKHOUSE_TLS_CA_FILE),
          ...(env.CLICKHOUSE_TLS_CERT_FILE && env.CLICKHOUSE_TLS_KEY_FILE
            ? {
                cert: readFileSync(env.CLICKHOUSE_TLS_CERT_FILE),
                key: readFileSync(env.CLICKHOUSE_TLS_KEY_FILE),
              }
            : {}),
        }
      : undefined;
    const base = {
      url: env.CLICKHOUSE_URL,
      username: env.CLICKHOUSE_USER,
      password: env.CLICKHOUSE_PASSWORD,
      tls,
    };
    const bootstrap = createClient(base);
    await bootstrap.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
    await bootstrap.close();
    const client = createClient({ ...base, database, request_timeout: 60_000 });
    return { client, kind: 'server', database, close: () => client.close() };
  }
  const dir = path.join(dataDir, 'clickhouse');
  mkdirSync(dir, { recursive: true });
  let client: ClickHouseClient;
  try {
    // chdb types its connection against its own copy of @clickhouse/client-common; the runtime
    // contract is the same (chdb's own docs plug it in exactly like this).
    const connection = createChdbConnection({ path: dir }) as unknown as NonNullable<
      NonNullable<Parameters<typeof createClient>[0]>['connection']
    >;
    client = createClient({ connection });
    await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
  } catch (err) {
    if (/Cannot lock file|already running/i.test(String((err as Error).message))) {
      throw new StoreLockedError(`the embedded store at ${dir} is held by another vigil process`);
    }
    throw err;
  }
  // The embedded engine keeps one session per process: USE sticks for every later statement.
  await client.command({ query: `USE ${database}` });
  return { client, kind: 'embedded', database, close: () => client.close() };
}

/** DateTime64(3) text for JSONEachRow inserts, from epoch milliseconds. */
export function chTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

/**
 * Every insert goes through here. It always sends an insert_deduplication_token: the caller's
 * (redelivery of the same batch is dropped) or a fresh one. The embedded connection applies
 * settings as session-wide SET statements, so an insert without a token of its own would inherit
 * the previous insert's token and be silently dropped as a "duplicate".
 */
export async function insertRows(
  client: StoreClient,
  table: string,
  rows: Array<Record<string, unknown>>,
  dedupToken?: string,
): Promise<void> {
  await client.insert({
    table,
    values: rows,
    format: 'JSONEachRow',
    clickhouse_settings: { insert_deduplication_token: dedupToken ?? randomUUID() },
  });
}
