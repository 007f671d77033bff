// The one place a ClickHouse client is made: the embedded engine (chDB behind @clickhouse/client)
// by default, a ClickHouse server over HTTP(S) when CLICKHOUSE_URL is set. Everything else sees
// only the store client (./store-client.ts), never the @clickhouse/client API.
import path from 'node:path';
import { type ClickHouseClient, createClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { clickhouseConnection, type Env, ensurePrivateDir } from '../config/index.js';
import { createStoreClient, type StoreClient } from './store-client.js';

export type {
  ExecOptions,
  ExecResult,
  QueryParams,
  StatementSettings,
  StoreClient,
} from './store-client.js';

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
  const server = clickhouseConnection(env);
  if (server) {
    const base = { ...server, tls: server.tls && { ...server.tls } };
    const bootstrap = createClient(base);
    await bootstrap.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
    await bootstrap.close();
    const client = createStoreClient(createClient({ ...base, database, request_timeout: 60_000 }), {
      kind: 'server',
    });
    return { client, kind: 'server', database, close: () => client.close() };
  }
  ensurePrivateDir(dataDir, 'VIGIL_DATA_DIR');
  const dir = path.join(dataDir, 'clickhouse');
  ensurePrivateDir(dir, 'the embedded store');
  let raw: ClickHouseClient;
  let client: StoreClient;
  try {
    // chdb types its connection against its own copy of @clickhouse/client-common; the runtime
    // contract is the same (chdb's own docs plug it in exactly like this).
    const chdb = createChdbConnection({ path: dir });
    const connection = chdb as unknown as NonNullable<
      NonNullable<Parameters<typeof createClient>[0]>['connection']
    >;
    raw = createClient({ connection });
    client = createStoreClient(raw, { kind: 'embedded', rawInsert: chdb.chdb.rawInsert });
    await raw.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
  } catch (err) {
    if (/Cannot lock file|already running/i.test(String((err as Error).message))) {
      throw new StoreLockedError(`the embedded store at ${dir} is held by another vigil process`);
    }
    throw err;
  }
  // The embedded engine keeps one session per process: USE sticks for every later statement (the
  // one session-wide statement vigil makes; statement settings never are, ./store-client.ts).
  await raw.command({ query: `USE ${database}` });
  return { client, kind: 'embedded', database, close: () => client.close() };
}

/** DateTime64(3) text for JSONEachRow inserts, from epoch milliseconds. */
export function chTime(ms: number): string {
  // Two per stored event: the date text is made once per second, the milliseconds appended.
  // Non-integers and instants past the Date range (±8.64e15 ms; their second may still be in it)
  // take the plain path, which also throws the same RangeError.
  if (!Number.isInteger(ms) || Math.abs(ms) > 8.64e15)
    return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
  const second = Math.floor(ms / 1000);
  if (second !== chTimeSecond) {
    chTimePrefix = new Date(second * 1000).toISOString().slice(0, -5).replace('T', ' ');
    chTimeSecond = second;
  }
  const milli = ms - second * 1000;
  return `${chTimePrefix}.${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}`;
}
let chTimeSecond = Number.NaN;
let chTimePrefix = '';
