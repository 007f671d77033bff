// Reading the store in bounded pages: a table's stored rows as chain entries, and a chain's
// records, for verification and crash recovery.
import type { StoreClient } from '../client.js';
import { CHAIN_TABLE, type ChainRecord, recordFromRow } from './chain-record.js';
import { entryOf } from './digest.js';
import type { ColumnSpec, TableShape } from './shape.js';

/** Rows read from the store at once (verification and crash recovery). @see VerifyOptions.pageSize */
export const DEFAULT_PAGE_ROWS = 50_000;

const quoteName = (c: string) => `\`${c.replace(/`/g, '``')}\``;

/** Key column types a query parameter can carry (all the chained tables' sorting keys are). */
const PAGEABLE = /^(LowCardinality\()?(String|U?Int\d+|Float\d+|Date(32)?|DateTime(64)?(\(.*\))?)\)?$/;

/**
 * `key > after` over the sorting key, spelled out column by column: the engine's index narrows a
 * condition on the leading column, which it does not for a tuple comparison.
 */
function keyAfter(columns: readonly ColumnSpec[], i = 0): string {
  const c = columns[i]!;
  const param = `{k${i}:${c.type.replace(/^LowCardinality\((.*)\)$/, '$1')}}`;
  const name = quoteName(c.name);
  if (i === columns.length - 1) return `${name} > ${param}`;
  return `(${name} > ${param} OR (${name} = ${param} AND ${keyAfter(columns, i + 1)}))`;
}

/**
 * Rows of `table` as (key, entry), stored since `sinceMs` (all rows when undefined): one partition
 * at a time, and within it pages of `pageRows` in sorting-key order (a page ends after every row
 * equal to its last key, so the next page starts after that key), so memory follows a page.
 */
export async function* storedEntries(
  client: StoreClient,
  shape: TableShape,
  sinceMs?: number,
  pageRows = DEFAULT_PAGE_ROWS,
): AsyncGenerator<{ key: string; entry: string; stored: number }> {
  const cols = [...new Set([...shape.columns, ...shape.keyColumns].map((c) => c.name))];
  const select = cols.map(quoteName).join(', ');
  const stored = shape.insertTimeColumn ? `toUnixTimestamp64Milli(${shape.insertTimeColumn})` : '0';
  const where =
    sinceMs !== undefined && shape.insertTimeColumn
      ? `AND ${shape.insertTimeColumn} >= fromUnixTimestamp64Milli({since:Int64})`
      : '';
  const keys = shape.keyColumns;
  const pageable = keys.length > 0 && keys.every((c) => PAGEABLE.test(c.type));
  const order = keys.map((c) => quoteName(c.name)).join(', ');
  const parts = await client.query<{ p: string }>(
    `SELECT DISTINCT _partition_id AS p FROM ${shape.table} ORDER BY p`,
  );
  for (const { p } of parts) {
    let after: Record<string, unknown> | undefined;
    for (;;) {
      const params: Record<string, unknown> = { p, since: sinceMs ?? 0, n: pageRows };
      if (after) for (const [i, c] of keys.entries()) params[`k${i}`] = after[c.name];
      const rows = await client.query<Record<string, unknown>>(
        `SELECT ${select}, ${stored} AS __vigil_stored FROM ${shape.table}
                  WHERE _partition_id = {p:String} ${where} ${after ? `AND ${keyAfter(keys)}` : ''}
                  ${pageable ? `ORDER BY ${order} LIMIT {n:UInt32} WITH TIES` : ''}`,
        params,
      );
      for (const row of rows) {
        const { entry, key } = entryOf(shape, row);
        yield { key, entry, stored: Number(row.__vigil_stored) };
      }
      if (!pageable || rows.length < pageRows) break;
      after = rows[rows.length - 1];
    }
  }
}

/** A chain's records in batch_seq order, `perPage` at a time (and every record tied with the last). */
export async function* chainRecords(
  client: StoreClient,
  table: string,
  chain: string,
  perPage: number,
): AsyncGenerator<ChainRecord> {
  let after: number | undefined;
  for (;;) {
    const rows = await client.query<Record<string, unknown>>(
      `SELECT * FROM ${CHAIN_TABLE}
                WHERE tbl = {t:String} AND chain = {c:String} ${after === undefined ? '' : 'AND batch_seq > {after:UInt64}'}
                ORDER BY batch_seq LIMIT {n:UInt32} WITH TIES`,
      { t: table, c: chain, after: after ?? 0, n: perPage },
    );
    for (const row of rows) yield recordFromRow(row);
    if (rows.length < perPage) return;
    after = Number(rows[rows.length - 1]!.batch_seq);
  }
}

export async function lastRecord(
  client: StoreClient,
  table: string,
  chain: string,
): Promise<ChainRecord | undefined> {
  const [row] = await client.query<Record<string, unknown>>(
    `SELECT * EXCEPT entries FROM ${CHAIN_TABLE}
              WHERE tbl = {t:String} AND chain = {c:String} ORDER BY batch_seq DESC LIMIT 1`,
    { t: table, c: chain },
  );
  return row ? recordFromRow(row) : undefined;
}
