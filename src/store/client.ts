// The one place a ClickHouse client is made: the embedded engine (chDB behind @clickhouse/client)
// by default, a ClickHouse server over HTTP(S) when CLICKHOUSE_URL is set. Everything else sees
// only the @clickhouse/client API.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { type ClickHouseClient, createClient, parseError } from '@clickhouse/client';
import { type ChdbConnection, createChdbConnection } from 'chdb/connection';
import { clickhouseConnection, type Env, ensurePrivateDir } from '../config/index.js';

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
  const server = clickhouseConnection(env);
  if (server) {
    const base = { ...server, tls: server.tls && { ...server.tls } };
    const bootstrap = createClient(base);
    await bootstrap.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
    await bootstrap.close();
    const client = createClient({ ...base, database, request_timeout: 60_000 });
    return { client, kind: 'server', database, close: () => client.close() };
  }
  ensurePrivateDir(dataDir, 'VIGIL_DATA_DIR');
  const dir = path.join(dataDir, 'clickhouse');
  ensurePrivateDir(dir, 'the embedded store');
  let client: ClickHouseClient;
  try {
    // chdb types its connection against its own copy of @clickhouse/client-common; the runtime
    // contract is the same (chdb's own docs plug it in exactly like this).
    const chdb = createChdbConnection({ path: dir });
    const connection = chdb as unknown as NonNullable<
      NonNullable<Parameters<typeof createClient>[0]>['connection']
    >;
    client = withRawInserts(createClient({ connection }), chdb.chdb);
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
  const clickhouse_settings = { insert_deduplication_token: dedupToken ?? randomUUID() };
  const compact = rows.length > 0 ? compactRows(rows, await knownColumns(client, table)) : undefined;
  if (compact) {
    await client.insert({
      table,
      values: compact.values,
      columns: compact.columns,
      format: 'JSONCompactEachRow',
      clickhouse_settings,
    });
    return;
  }
  if (compact === null) forgetColumns(client, table);
  await client.insert({ table, values: rows, format: 'JSONEachRow', clickhouse_settings });
}

type RawInserter = ChdbConnection['chdb'];
type InsertParams = Parameters<ClickHouseClient['insert']>[0];

/**
 * The embedded client, its JSONCompactEachRow inserts of row arrays sent to the engine as one
 * Buffer (handed to the native side without a copy), the settings in the statement's SETTINGS
 * (this insert only). Through the connection, every row was a stream chunk, concatenated into one
 * string, prefixed with the statement and a session-wide SET, then copied into the engine (a
 * quarter of the writer's own time). The bytes are the same JSON lines. It is still the client's
 * `insert`, so whatever wraps the client (telemetry) sees every insert.
 */
function withRawInserts(client: ClickHouseClient, raw: RawInserter): ClickHouseClient {
  const insert = client.insert.bind(client);
  const rawInsert = async (params: InsertParams, values: unknown[][], columns: string[]) => {
    const lines = new Array<string>(values.length);
    for (let i = 0; i < lines.length; i++) lines[i] = JSON.stringify(values[i]);
    try {
      await raw.rawInsert({
        table: params.table,
        columns,
        format: 'JSONCompactEachRow',
        values: Buffer.from(lines.join('\n')),
        settings: params.clickhouse_settings as Record<string, string | number | boolean> | undefined,
      });
    } catch (err) {
      // An engine error as the client gives it (ClickHouseError with the engine's code): the
      // writer tells bad data from a struggling server by that code.
      if ((err as { clickhouseCode?: unknown } | null)?.clickhouseCode === undefined) throw err;
      throw parseError((err as Error).message);
    }
    return { executed: true, query_id: randomUUID(), response_headers: {} };
  };
  return new Proxy(client, {
    get(target, prop) {
      if (prop === 'insert')
        return (params: InsertParams) => {
          const { values, columns } = params as { values: unknown; columns?: unknown };
          const plain =
            params.format === 'JSONCompactEachRow' &&
            Array.isArray(values) &&
            values.every(Array.isArray) &&
            Array.isArray(columns) &&
            columns.length > 0 &&
            PLAIN_NAME.test(params.table) &&
            columns.every((c) => typeof c === 'string' && PLAIN_NAME.test(c)) &&
            Object.values(params.clickhouse_settings ?? {}).every(
              (v) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean',
            ) &&
            Object.keys(params).every((k) => RAW_INSERT_PARAMS.has(k));
          return plain ? rawInsert(params, values as unknown[][], columns as string[]) : insert(params);
        };
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Insert parameters the raw path honours; anything else goes through the connection. */
const RAW_INSERT_PARAMS = new Set(['table', 'values', 'columns', 'format', 'clickhouse_settings']);

// JSONCompactEachRow (one JSON array a row, columns named once) is parsed about 1.5× faster by
// the engine than JSONEachRow and is cheaper to write (REFERENCE.md, "Embedded ClickHouse"). Each
// value is the same JSON either way, so a batch goes compact when that changes nothing: every row
// has the same keys in the same order, all of them columns of the table (JSONEachRow skips
// unknown keys), and no value JSON would leave out (undefined: the column's default). Anything
// else is sent as JSONEachRow, as before.
const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const columnsByClient = new WeakMap<StoreClient, Map<string, Promise<ReadonlySet<string>>>>();

function knownColumns(client: StoreClient, table: string): Promise<ReadonlySet<string>> {
  if (!PLAIN_NAME.test(table)) return Promise.resolve(new Set());
  let byTable = columnsByClient.get(client);
  if (!byTable) {
    byTable = new Map();
    columnsByClient.set(client, byTable);
  }
  let columns = byTable.get(table);
  if (!columns) {
    const known = client
      .query({
        query: 'SELECT name FROM system.columns WHERE database = currentDatabase() AND table = {t:String}',
        query_params: { t: table },
        format: 'JSONEachRow',
      })
      .then((rs) => rs.json<{ name: string }>())
      .then((cols) => new Set(cols.map((c) => c.name)));
    // A failed lookup is not remembered; this insert goes as JSONEachRow.
    columns = known.catch(() => {
      forgetColumns(client, table);
      return new Set<string>();
    });
    byTable.set(table, columns);
  }
  return columns;
}

function forgetColumns(client: StoreClient, table: string): void {
  columnsByClient.get(client)?.delete(table);
}

/**
 * Rows as arrays under one column list, or undefined when the batch must go as JSONEachRow;
 * null when a key is no known column (the table may have changed: look the columns up again).
 */
function compactRows(
  rows: ReadonlyArray<Record<string, unknown>>,
  known: ReadonlySet<string>,
): { columns: [string, ...string[]]; values: unknown[][] } | undefined | null {
  if (known.size === 0) return undefined;
  const columns = Object.keys(rows[0]!) as [string, ...string[]];
  if (columns.length === 0) return undefined;
  for (const c of columns) {
    if (!known.has(c)) return null;
    if (!PLAIN_NAME.test(c)) return undefined;
  }
  const n = columns.length;
  const values: unknown[][] = new Array(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    const out: unknown[] = new Array(n);
    let i = 0;
    for (const key in row) {
      if (i === n || key !== columns[i]) return undefined;
      const v = row[key];
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') return undefined;
      out[i++] = v;
    }
    if (i !== n) return undefined;
    values[r] = out;
  }
  return { columns, values };
}
