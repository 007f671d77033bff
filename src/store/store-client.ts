// What vigil asks of ClickHouse: rows of a query, a statement run, rows inserted, the bytes of a
// statement that names its own output, a liveness check. One implementation over @clickhouse/client,
// for both the embedded engine (chDB as the client's connection) and a server over HTTP(S); nothing
// outside src/store sees the client itself.
//
// Settings are per statement in both modes, never session state. The client sends a request's
// `clickhouse_settings` to a server as URL parameters of that request, but the embedded connection
// turns them into `SET` statements run before it, and SET sticks for every later statement of the
// process's one session (a result limit, an output format or an insert's deduplication token would
// carry over). So in embedded mode this module never hands the client a setting: a statement's
// settings go into its own SETTINGS clause, which the engine applies to that statement alone (and
// which holds when statements run concurrently, where a SET followed by a reset would not). The one
// exception is the output format of `exec`: the embedded connection takes `default_format` as the
// engine's output-format option of that call, not as a SET.
import { randomUUID } from 'node:crypto';
import {
  type ClickHouseClient,
  type ClickHouseSettings,
  type DataFormat,
  parseError,
} from '@clickhouse/client';
import type { ChdbConnection } from 'chdb/connection';
import { compactRows, PLAIN_NAME } from './compact-rows.js';

/** `{name:Type}` parameter values, bound by the engine (never spliced into the text). */
export type QueryParams = Readonly<Record<string, unknown>>;

/**
 * Settings for one statement, applied to it alone (embedded: its SETTINGS clause; server: its
 * request). The statement must not have a SETTINGS clause of its own. Add a setting here when a
 * caller needs one: each is a query-level setting the engine accepts in a SETTINGS clause.
 */
export interface StatementSettings {
  /** Wait for a mutation (ALTER … UPDATE / DELETE) to finish: 1 here, 2 on every replica. */
  readonly mutations_sync?: 0 | 1 | 2;
  /** How DateTime values are written: `iso` is what Grafana's ClickHouse plugin asks for. */
  readonly date_time_output_format?: 'simple' | 'iso' | 'unix_timestamp';
  /** Rows an answer may have; beyond them, `result_overflow_mode` says what happens. */
  readonly max_result_rows?: number;
  readonly result_overflow_mode?: 'throw' | 'break';
  /** For an INSERT … SELECT: a repeat of the same token is dropped as a duplicate. */
  readonly insert_deduplication_token?: string;
}

export interface ExecOptions {
  /** The engine's output format, for a statement that names none (one that does keeps its own). */
  readonly format: string;
  readonly params?: QueryParams;
  readonly settings?: StatementSettings;
  /** Ends the wait for the answer (the embedded engine may still finish the statement). */
  readonly signal?: AbortSignal;
}

export interface ExecResult {
  /** The whole answer, in the statement's format. */
  readonly body: Buffer;
  /** The engine's counters for the statement (`result_rows`, `read_rows`, …), when it gives them. */
  readonly summary?: Readonly<Record<string, string>>;
}

export interface StoreClient {
  /** The rows of a statement with a result (SELECT, SHOW, EXPLAIN), one object a row. */
  query<T = Record<string, unknown>>(
    sql: string,
    params?: QueryParams,
    settings?: StatementSettings,
  ): Promise<T[]>;
  /**
   * The rows of a statement as arrays, in its SELECT's column order (JSONCompactEachRow): for large
   * answers, where repeating the column names in every row would dominate their size.
   */
  queryArrays<T extends readonly unknown[]>(
    sql: string,
    params?: QueryParams,
    settings?: StatementSettings,
  ): Promise<T[]>;
  /** A statement without a result: DDL, INSERT … SELECT, a mutation, OPTIMIZE. */
  command(sql: string, params?: QueryParams, settings?: StatementSettings): Promise<void>;
  /**
   * Rows into `table`; durable in the store once this resolves. Every insert carries an
   * insert_deduplication_token: `dedupToken` (a redelivery of the same batch is dropped) or a fresh
   * one. Without a token the engine deduplicates by the block's content (the tables keep a
   * deduplication window), so two identical batches written on purpose would be stored once.
   */
  insert(table: string, rows: ReadonlyArray<Record<string, unknown>>, dedupToken?: string): Promise<void>;
  /**
   * A statement's answer as bytes, the text sent as it is (nothing appended, so it may carry its
   * own FORMAT and SETTINGS): for the read-only ClickHouse HTTP interface and its gate.
   */
  exec(sql: string, opts: ExecOptions): Promise<ExecResult>;
  /** True when the engine answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** How statements reach the engine: a server's requests, or the embedded engine with its raw inserts. */
export type StoreEngine =
  | { readonly kind: 'server' }
  | { readonly kind: 'embedded'; readonly rawInsert: ChdbConnection['chdb']['rawInsert'] };

export function createStoreClient(client: ClickHouseClient, engine: StoreEngine): StoreClient {
  const embedded = engine.kind === 'embedded' ? engine : undefined;
  /** The statement to send and the settings to give the client for it (never any when embedded). */
  const withSettings = (sql: string, settings: StatementSettings | undefined) =>
    embedded
      ? { query: settingsClause(sql, settings), clickhouse_settings: undefined }
      : { query: sql, clickhouse_settings: requestSettings(settings) };

  const columnsByTable = new Map<string, Promise<ReadonlySet<string>>>();
  /** The table's column names, looked up once (a failed lookup is not remembered). */
  const knownColumns = (table: string): Promise<ReadonlySet<string>> => {
    if (!PLAIN_NAME.test(table)) return Promise.resolve(new Set());
    let columns = columnsByTable.get(table);
    if (!columns) {
      columns = client
        .query({
          query: 'SELECT name FROM system.columns WHERE database = currentDatabase() AND table = {t:String}',
          query_params: { t: table },
          format: 'JSONEachRow',
        })
        .then((rs) => rs.json<{ name: string }>())
        .then((cols) => new Set(cols.map((c) => c.name)))
        .catch(() => {
          columnsByTable.delete(table);
          return new Set<string>();
        });
      columnsByTable.set(table, columns);
    }
    return columns;
  };

  return {
    async query<T>(sql: string, params?: QueryParams, settings?: StatementSettings) {
      const rs = await client.query({
        ...withSettings(sql, settings),
        query_params: params,
        format: 'JSONEachRow',
      });
      return rs.json<T>();
    },

    async queryArrays<T extends readonly unknown[]>(
      sql: string,
      params?: QueryParams,
      settings?: StatementSettings,
    ) {
      const rs = await client.query({
        ...withSettings(sql, settings),
        query_params: params,
        format: 'JSONCompactEachRow',
      });
      return rs.json<T>();
    },

    async command(sql, params, settings) {
      await client.command({ ...withSettings(sql, settings), query_params: params });
    },

    async insert(table, rows, dedupToken) {
      if (rows.length === 0) return;
      const token = { insert_deduplication_token: dedupToken ?? randomUUID() };
      const compact = compactRows(rows, await knownColumns(table));
      // A key that is no known column: the table may have changed, look its columns up again.
      if (compact === null) columnsByTable.delete(table);
      if (embedded) {
        // One JSON text for the whole batch, not one a row joined by newlines (a third cheaper):
        // the engine reads JSONEachRow rows as a JSON array, and JSONCompactEachRow rows separated
        // by commas — the array without its brackets (test/integration/store-insert-roundtrip.test.ts).
        const text = JSON.stringify(compact ? compact.values : rows);
        await rawInsert(embedded.rawInsert, {
          table,
          ...(compact
            ? { columns: compact.columns, format: 'JSONCompactEachRow' }
            : { format: 'JSONEachRow' }),
          values: compact ? Buffer.from(text.slice(1, -1)) : Buffer.from(text),
          settings: token,
        });
        return;
      }
      if (compact) {
        await client.insert({
          table,
          values: compact.values,
          columns: compact.columns,
          format: 'JSONCompactEachRow',
          clickhouse_settings: token,
        });
      } else {
        await client.insert({ table, values: [...rows], format: 'JSONEachRow', clickhouse_settings: token });
      }
    },

    async exec(sql, opts) {
      const { query, clickhouse_settings } = withSettings(sql, opts.settings);
      const result = await client.exec({
        query,
        query_params: opts.params,
        // Embedded: the engine's output-format option of this call (not a SET); server: the
        // request's default_format.
        clickhouse_settings: { ...clickhouse_settings, default_format: opts.format as DataFormat },
        abort_signal: opts.signal,
      });
      const chunks: Buffer[] = [];
      for await (const chunk of result.stream)
        chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array | string));
      const summary =
        'summary' in result ? (result.summary as Record<string, string> | undefined) : undefined;
      return { body: Buffer.concat(chunks), ...(summary ? { summary } : {}) };
    },

    async ping() {
      return (await client.ping()).success;
    },

    close: () => client.close(),
  };
}

/**
 * The statement with `settings` as its own SETTINGS clause, on a line of its own (after a trailing
 * `-- comment` too). The client may append FORMAT after it, which the engine accepts.
 */
export function settingsClause(sql: string, settings: StatementSettings | undefined): string {
  const pairs = Object.entries(settings ?? {})
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${settingName(k)} = ${settingValue(k, v)}`);
  if (pairs.length === 0) return sql;
  return `${sql.trimEnd().replace(/;+$/, '').trimEnd()}\nSETTINGS ${pairs.join(', ')}`;
}

/**
 * A server request's settings (URL parameters): the same names and values. The client's settings
 * type spells 64-bit numbers as strings; it sends a number just the same.
 */
function requestSettings(settings: StatementSettings | undefined): ClickHouseSettings | undefined {
  if (!settings) return undefined;
  return Object.fromEntries(
    Object.entries(settings).filter(([, v]) => v !== undefined),
  ) as ClickHouseSettings;
}

const settingName = (k: string) => {
  if (!PLAIN_NAME.test(k)) throw new Error(`not a setting name: ${JSON.stringify(k)}`);
  return k;
};

function settingValue(k: string, v: unknown): string {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`setting ${k}: not a finite number`);
    return String(v);
  }
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  throw new Error(`setting ${k}: a number, boolean or string, not ${typeof v}`);
}

type RawInsert = ChdbConnection['chdb']['rawInsert'];

/**
 * An embedded insert: the JSON lines handed to the engine as one Buffer (without a copy), the
 * settings in the statement's SETTINGS clause. Through the connection every row was a stream
 * chunk, concatenated into one string, prefixed with the statement and a session-wide SET, then
 * copied into the engine (a quarter of the writer's own time). The bytes are the same JSON lines.
 */
async function rawInsert(insert: RawInsert, params: Parameters<RawInsert>[0]): Promise<void> {
  try {
    await insert(params);
  } catch (err) {
    // An engine error as the client gives it (ClickHouseError with the engine's code): the writer
    // tells bad data from a struggling server by that code.
    if ((err as { clickhouseCode?: unknown } | null)?.clickhouseCode === undefined) throw err;
    throw parseError((err as Error).message);
  }
}
