// What the chain needs to know about a table, read from ClickHouse's system tables: the digested
// columns, the sorting key, whether the engine folds rows, and the retention.
import type { StoreClient } from '../client.js';

export interface ColumnSpec {
  readonly name: string;
  readonly type: string;
}

/** What the chain needs to know about a table: digested columns, sorting key, folding, retention. */
export interface TableShape {
  readonly table: string;
  /** Columns that make up a row's content digest, sorted by name. */
  readonly columns: readonly ColumnSpec[];
  /** The sorting key: rows with equal key values are one logical row (ReplacingMergeTree). */
  readonly keyColumns: readonly ColumnSpec[];
  /** ReplacingMergeTree (and friends) fold rows with equal keys; plain MergeTree keeps every copy. */
  readonly folds: boolean;
  /** Row retention (`TTL toDateTime(col) + INTERVAL n DAY`): rows older than that may vanish. */
  readonly ttl?: { readonly column: string; readonly days: number };
  /** Server-set insert time column (stored_time), used to bound scans; absent on some tables. */
  readonly insertTimeColumn?: string;
}

/** Default expressions that are the type's zero value and so safe to digest as "absent". */
const ZERO_DEFAULT = /^(''|0|false|\[\]|map\(\))$/i;

export async function tableShape(client: StoreClient, table: string): Promise<TableShape> {
  const cols = await client.query<{
    name: string;
    type: string;
    default_kind: string;
    default_expression: string;
  }>(
    `SELECT name, type, default_kind, default_expression FROM system.columns
              WHERE database = currentDatabase() AND table = {t:String} ORDER BY position`,
    { t: table },
  );
  if (cols.length === 0) throw new Error(`audit chain: table ${table} does not exist`);
  const [meta] = await client.query<{ sorting_key: string; engine: string; engine_full: string }>(
    `SELECT sorting_key, engine, engine_full FROM system.tables
              WHERE database = currentDatabase() AND name = {t:String}`,
    { t: table },
  );
  // A column vigil does not send (stored_time DEFAULT now64()) is the server's, not the batch's.
  const digested = cols.filter(
    (c) =>
      c.default_kind === '' ||
      (c.default_kind === 'DEFAULT' && ZERO_DEFAULT.test(c.default_expression.trim())),
  );
  const byName = new Map(cols.map((c) => [c.name, c]));
  const keyColumns = (meta?.sorting_key ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((name) => {
      const c = byName.get(name);
      if (!c) throw new Error(`audit chain: ${table} sorting key "${name}" is not a plain column`);
      return { name: c.name, type: c.type };
    });
  const ttl = /TTL\s+toDateTime\((\w+)\)\s*\+\s*toIntervalDay\((\d+)\)/.exec(meta?.engine_full ?? '');
  return {
    table,
    columns: digested.map((c) => ({ name: c.name, type: c.type })).sort((a, b) => (a.name < b.name ? -1 : 1)),
    keyColumns: keyColumns.length ? keyColumns : digested.map((c) => ({ name: c.name, type: c.type })),
    folds: /Replacing|Collapsing|Summing|Aggregating/.test(meta?.engine ?? ''),
    ttl: ttl ? { column: ttl[1]!, days: Number(ttl[2]) } : undefined,
    insertTimeColumn: byName.has('stored_time') ? 'stored_time' : undefined,
  };
}
