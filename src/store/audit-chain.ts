// Tamper-evident audit trail. Every batch the store writer inserts into a chained table (events,
// findings, incidents, actions) gets a record in `audit_chain`: per row a key hash and a content
// digest (the "entries"), the batch digest over them, and a hash chain
// head = sha256(prev_head ‖ batch_digest), HMAC'd with a key that lives on the vigil host only.
// The chain head is also kept apart from the data, in $VIGIL_DATA_DIR/chain/<table>.head.
//
// Threat model: someone who can write to ClickHouse but not to the vigil host can change, delete or
// add rows (and chain records), but cannot recompute a valid HMAC nor move the head file, so
// `verifyAuditTrail` names the batch they touched. Someone who owns the vigil host owns the key and
// is out of scope (SECURITY.md).
//
// Verification is by key, not by physical row: ReplacingMergeTree folds rows with the same sorting
// key (a redelivered event, a finding re-issued with higher numbers), so an older batch may lose
// its rows to a newer one. The rules, per sorting key k with recorded entries L(k):
//   - every stored row (every version, no FINAL) must match an entry of L(k): otherwise "modified";
//   - the latest recorded entry of k must still be stored: otherwise "deleted" (or rolled back);
//   - a stored row whose key no batch recorded is "inserted";
//   - tables that do not fold (plain MergeTree) must hold exactly the recorded multiset.
// A batch is recorded only once its insert returned, and the insert token is a digest of the
// batch's content: a redelivered batch that ClickHouse drops as a duplicate has the same content
// as the stored one, so it can never look like tampering. A crash between the insert and the
// chain record is closed by a pending file written before the insert and settled at the next start.
import { createHash, createHmac, hash, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { appendFile, chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { chTime, insertRows, type StoreClient } from './client.js';

export const CHAIN_TABLE = 'audit_chain';
/** The tables whose every stored batch is chained. */
export const CHAINED_TABLES = ['events', 'findings', 'incidents', 'actions'] as const;
export type ChainedTable = (typeof CHAINED_TABLES)[number];

// ------------------------------------------------------------------------------------------ shape

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
  const cols = await (
    await client.query({
      query: `SELECT name, type, default_kind, default_expression FROM system.columns
              WHERE database = currentDatabase() AND table = {t:String} ORDER BY position`,
      query_params: { t: table },
      format: 'JSONEachRow',
    })
  ).json<{ name: string; type: string; default_kind: string; default_expression: string }>();
  if (cols.length === 0) throw new Error(`audit chain: table ${table} does not exist`);
  const [meta] = await (
    await client.query({
      query: `SELECT sorting_key, engine, engine_full FROM system.tables
              WHERE database = currentDatabase() AND name = {t:String}`,
      query_params: { t: table },
      format: 'JSONEachRow',
    })
  ).json<{ sorting_key: string; engine: string; engine_full: string }>();
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

// -------------------------------------------------------------------------- canonical row content

/** `Map(LowCardinality(String), Float64)` → ['LowCardinality(String)', 'Float64']. */
function typeArgs(type: string): string[] {
  const inner = type.slice(type.indexOf('(') + 1, type.lastIndexOf(')'));
  const args: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < inner.length; i++) {
    const ch = inner[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      args.push(inner.slice(start, i).trim());
      start = i + 1;
    }
  }
  args.push(inner.slice(start).trim());
  return args;
}

interface WellFormed {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

/** A string without lone surrogates (ClickHouse refuses them; they become U+FFFD). */
export function wellFormed(s: string): string {
  const w = s as unknown as WellFormed;
  return w.isWellFormed() ? s : w.toWellFormed();
}

type Canonicalizer = (value: unknown) => unknown;

/** Compiled once per type string: rows are canonicalized on every insert (hot path). */
const canonicalizers = new Map<string, Canonicalizer>();

const byFirst = (a: readonly [string, unknown], b: readonly [string, unknown]) =>
  a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;

function compileCanonicalizer(type: string): Canonicalizer {
  let t = type;
  while (t.startsWith('LowCardinality(')) t = typeArgs(t)[0]!;
  if (t.startsWith('Nullable(')) {
    const inner = canonicalizerFor(typeArgs(t)[0]!);
    return (v) => (v === null || v === undefined ? null : inner(v));
  }
  if (t.startsWith('Array(')) {
    const inner = canonicalizerFor(typeArgs(t)[0]!);
    return (v) => (Array.isArray(v) ? v.map(inner) : []);
  }
  if (t.startsWith('Map(')) {
    const [k, val] = typeArgs(t) as [string, string];
    const key = canonicalizerFor(k);
    const value = canonicalizerFor(val);
    return (v) => {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return [];
      return Object.entries(v)
        .map(([name, x]) => [String(key(name)), value(x)] as const)
        .sort(byFirst);
    };
  }
  if (t === 'String' || t.startsWith('FixedString(') || t.startsWith('Enum'))
    return (v) => {
      if (v === null || v === undefined) return '';
      if (typeof v === 'string') return wellFormed(v);
      return typeof v === 'object' ? JSON.stringify(v) : String(v);
    };
  if (t === 'Bool') return (v) => v === true || v === 1 || v === 'true' || v === '1';
  if (/^U?Int(8|16|32)$/.test(t))
    return (v) => {
      const n = typeof v === 'boolean' ? Number(v) : Number(v ?? 0);
      return Number.isFinite(n) ? n : 0;
    };
  if (/^U?Int(64|128|256)$/.test(t))
    return (v) => {
      if (v === null || v === undefined) return '0';
      return typeof v === 'boolean' ? String(Number(v)) : String(v);
    };
  if (t === 'Float32' || t === 'Float64') {
    const f32 = t === 'Float32';
    return (v) => {
      const n = Number(v ?? 0);
      if (!Number.isFinite(n)) return 0;
      const r = f32 ? Math.fround(n) : n;
      return r === 0 ? 0 : r; // -0 and 0 are the same stored value
    };
  }
  return (v) => {
    if (v === null || v === undefined) return null;
    return typeof v === 'string' ? wellFormed(v) : String(v);
  };
}

function canonicalizerFor(type: string): Canonicalizer {
  let c = canonicalizers.get(type);
  if (!c) {
    c = compileCanonicalizer(type);
    canonicalizers.set(type, c);
  }
  return c;
}

/**
 * A value as ClickHouse stores it, in a form that is equal whether it comes from the row vigil
 * sent or from the row read back: numbers are parsed as the column's type (Float32 rounded),
 * 64-bit integers are decimal strings, maps are sorted pairs, absent values are the zero value.
 */
export function canonicalValue(type: string, value: unknown): unknown {
  return canonicalizerFor(type)(value);
}

function isZero(v: unknown): boolean {
  return (
    v === '' ||
    v === 0 ||
    v === '0' ||
    v === false ||
    v === null ||
    (Array.isArray(v) && v.length === 0) ||
    v === '1970-01-01 00:00:00.000' ||
    v === '1970-01-01 00:00:00'
  );
}

/**
 * The zero-value test of a column type's canonical values. A text column's zero is only '': the
 * text '0' is content, and a row whose text changed between '' and '0' must digest differently
 * (the generic test also takes '0', the canonical zero of a 64-bit integer).
 */
function zeroTestFor(type: string): (v: unknown) => boolean {
  let t = type;
  while (t.startsWith('LowCardinality(') || t.startsWith('Nullable(')) t = typeArgs(t)[0]!;
  return t === 'String' || t.startsWith('FixedString(') || t.startsWith('Enum')
    ? (v) => v === '' || v === null
    : isZero;
}

/**
 * The canonical JSON of a row: its digested columns in name order, leaving out zero values, so a
 * column added later with a zero default does not change the digest of rows stored before it.
 */
export function canonicalRow(shape: TableShape, row: Record<string, unknown>): string {
  // Built as text rather than through an array of pairs: this runs for every stored row. The
  // result is exactly JSON.stringify(pairs).
  let out = '';
  for (const c of compiledColumns(shape)) {
    const v = c.canon(row[c.name]);
    if (c.isZero(v)) continue;
    out += `${out ? ',' : ''}[${c.json},${JSON.stringify(v)}]`;
  }
  return `[${out}]`;
}

interface CompiledColumn {
  readonly name: string;
  readonly json: string;
  readonly canon: Canonicalizer;
  readonly isZero: (v: unknown) => boolean;
}

const compiledShapes = new WeakMap<TableShape, CompiledColumn[]>();

function compiledColumns(shape: TableShape): CompiledColumn[] {
  let cols = compiledShapes.get(shape);
  if (!cols) {
    cols = shape.columns.map((c) => ({
      name: c.name,
      json: JSON.stringify(c.name),
      canon: canonicalizerFor(c.type),
      isZero: zeroTestFor(c.type),
    }));
    compiledShapes.set(shape, cols);
  }
  return cols;
}

/** The row's sorting key, canonical JSON (tokens and times only: safe to show). */
export function rowKey(shape: TableShape, row: Record<string, unknown>): string {
  return JSON.stringify(shape.keyColumns.map((c) => canonicalValue(c.type, row[c.name])));
}

// One-shot hashing (crypto.hash): measurably cheaper than createHash for the per-row digests.
const sha256 = (s: string) => hash('sha256', s, 'hex');

export const KEY_HASH_CHARS = 16;
export const LEAF_CHARS = 32;

export function keyHashOf(key: string): string {
  return sha256(`key\n${key}`).slice(0, KEY_HASH_CHARS);
}

/** A row's content digest (128 bits). */
export function leafOf(canonical: string): string {
  return sha256(`row\n${canonical}`).slice(0, LEAF_CHARS);
}

/** One entry per inserted row: key hash ‖ content digest, in insertion order. */
export function entryOf(shape: TableShape, row: Record<string, unknown>): { entry: string; key: string } {
  const key = rowKey(shape, row);
  return { entry: keyHashOf(key) + leafOf(canonicalRow(shape, row)), key };
}

export function batchDigest(table: string, entries: readonly string[]): string {
  const h = createHash('sha256').update(`batch\n${table}\n`);
  for (const e of entries) h.update(e).update('\n');
  return h.digest('hex');
}

export function genesisHead(table: string, chain: string): string {
  return sha256(`vigil-audit-chain\n${table}\n${chain}`);
}

/** head = sha256(prev_head ‖ batch_digest). */
export function nextHead(prevHead: string, digest: string): string {
  return sha256(prevHead + digest);
}

export function chainMac(key: Buffer, table: string, chain: string, seq: number, head: string): string {
  return createHmac('sha256', key).update(`${table}\n${chain}\n${seq}\n${head}`).digest('hex');
}

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

// ----------------------------------------------------------------------------------- chain records

export interface ChainRecord {
  readonly tbl: string;
  readonly chain: string;
  readonly batch_seq: number;
  /** Epoch ms when the record was made (after the insert returned). */
  readonly time: number;
  readonly row_count: number;
  readonly first_key: string;
  readonly last_key: string;
  readonly min_time: number;
  readonly max_time: number;
  readonly entries: readonly string[];
  readonly batch_digest: string;
  readonly prev_head: string;
  readonly head: string;
  readonly mac: string;
}

export interface ChainPosition {
  readonly seq: number;
  readonly head: string;
}

/** Seals the next record of a chain over rows (pure). */
export function sealBatch(
  shape: TableShape,
  rows: ReadonlyArray<Record<string, unknown>>,
  at: { chain: string; prev: ChainPosition; key: Buffer; now: number },
): ChainRecord {
  const entries: string[] = [];
  let first: string | undefined;
  let last: string | undefined;
  let minTime = Number.POSITIVE_INFINITY;
  let maxTime = Number.NEGATIVE_INFINITY;
  for (const row of rows) {
    const { entry, key } = entryOf(shape, row);
    entries.push(entry);
    if (first === undefined || key < first) first = key;
    if (last === undefined || key > last) last = key;
    if (shape.ttl) {
      const t = Date.parse(`${String(row[shape.ttl.column])}Z`.replace(' ', 'T'));
      if (Number.isFinite(t)) {
        minTime = Math.min(minTime, t);
        maxTime = Math.max(maxTime, t);
      }
    }
  }
  const digest = batchDigest(shape.table, entries);
  const seq = at.prev.seq + 1;
  const head = nextHead(at.prev.head, digest);
  return {
    tbl: shape.table,
    chain: at.chain,
    batch_seq: seq,
    time: at.now,
    row_count: entries.length,
    first_key: first ?? '',
    last_key: last ?? '',
    min_time: Number.isFinite(minTime) ? minTime : 0,
    max_time: Number.isFinite(maxTime) ? maxTime : 0,
    entries,
    batch_digest: digest,
    prev_head: at.prev.head,
    head,
    mac: chainMac(at.key, shape.table, at.chain, seq, head),
  };
}

function recordRow(r: ChainRecord): Record<string, unknown> {
  return { ...r, time: chTime(r.time), min_time: chTime(r.min_time), max_time: chTime(r.max_time) };
}

const epochMs = (v: unknown) => Date.parse(`${String(v).replace(' ', 'T')}Z`);

function recordFromRow(r: Record<string, unknown>): ChainRecord {
  return {
    tbl: String(r.tbl),
    chain: String(r.chain),
    batch_seq: Number(r.batch_seq),
    time: epochMs(r.time),
    row_count: Number(r.row_count),
    first_key: String(r.first_key),
    last_key: String(r.last_key),
    min_time: epochMs(r.min_time),
    max_time: epochMs(r.max_time),
    entries: (r.entries as string[] | undefined) ?? [],
    batch_digest: String(r.batch_digest),
    prev_head: String(r.prev_head),
    head: String(r.head),
    mac: String(r.mac),
  };
}

// ------------------------------------------------------------------------ head and pending files

export interface HeadFile extends ChainPosition {
  readonly table: string;
  readonly chain: string;
  readonly time: number;
  readonly mac: string;
}

export const chainDir = (dataDir: string) => path.join(dataDir, 'chain');
const headPath = (dataDir: string, table: string) => path.join(chainDir(dataDir), `${table}.head`);
const pendingPath = (dataDir: string, table: string) => path.join(chainDir(dataDir), `${table}.pending`);

/** Writes a file so that a reader sees the old or the new content, never a torn one. */
function writeAtomic(file: string, content: string): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  renameSync(tmp, file);
}

export function readHeadFile(dataDir: string, table: string): HeadFile | undefined {
  const file = headPath(dataDir, table);
  if (!existsSync(file)) return undefined;
  try {
    const h = JSON.parse(readFileSync(file, 'utf8')) as HeadFile;
    return typeof h.seq === 'number' && typeof h.head === 'string' ? h : undefined;
  } catch {
    return undefined;
  }
}

function writeHeadFile(dataDir: string, key: Buffer, r: ChainRecord): void {
  const h: HeadFile = {
    table: r.tbl,
    chain: r.chain,
    seq: r.batch_seq,
    head: r.head,
    time: r.time,
    mac: chainMac(key, r.tbl, r.chain, r.batch_seq, r.head),
  };
  writeAtomic(headPath(dataDir, r.tbl), `${JSON.stringify(h)}\n`);
}

export function readPendingFile(dataDir: string, table: string): ChainRecord | undefined {
  const file = pendingPath(dataDir, table);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ChainRecord;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------- the writer's chain

export interface AuditChainOptions {
  readonly client: StoreClient;
  readonly table: string;
  /** Where the head and pending files live ($VIGIL_DATA_DIR). */
  readonly dataDir: string;
  /** This process's chain id (several store processes each keep their own chain). */
  readonly chain: string;
  /** HMAC key (keys/chain.key): never stored in ClickHouse. */
  readonly key: Buffer;
  readonly onError?: (err: unknown, attempt: number) => void;
  readonly onWarning?: (message: string) => void;
  /** Records digests this many batches back, as ClickHouse's insert deduplication window. @defaultValue 100 */
  readonly recentWindow?: number;
}

export interface AuditChain {
  /**
   * Inserts rows through `write` (given the insert token to use) and appends the batch's chain
   * record once the insert returned. Rejects only when the insert itself failed.
   */
  insert(
    rows: ReadonlyArray<Record<string, unknown>>,
    write: (token: string) => Promise<void>,
  ): Promise<void>;
  /** Stops retrying chain appends (a pending file settles it at the next start). */
  close(): void;
  readonly position: () => ChainPosition | undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
async function* storedEntries(
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
  const parts = await (
    await client.query({
      query: `SELECT DISTINCT _partition_id AS p FROM ${shape.table} ORDER BY p`,
      format: 'JSONEachRow',
    })
  ).json<{ p: string }>();
  for (const { p } of parts) {
    let after: Record<string, unknown> | undefined;
    for (;;) {
      const params: Record<string, unknown> = { p, since: sinceMs ?? 0, n: pageRows };
      if (after) for (const [i, c] of keys.entries()) params[`k${i}`] = after[c.name];
      const rows = await (
        await client.query({
          query: `SELECT ${select}, ${stored} AS __vigil_stored FROM ${shape.table}
                  WHERE _partition_id = {p:String} ${where} ${after ? `AND ${keyAfter(keys)}` : ''}
                  ${pageable ? `ORDER BY ${order} LIMIT {n:UInt32} WITH TIES` : ''}`,
          query_params: params,
          format: 'JSONEachRow',
        })
      ).json<Record<string, unknown>>();
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
async function* chainRecords(
  client: StoreClient,
  table: string,
  chain: string,
  perPage: number,
): AsyncGenerator<ChainRecord> {
  let after: number | undefined;
  for (;;) {
    const rows = await (
      await client.query({
        query: `SELECT * FROM ${CHAIN_TABLE}
                WHERE tbl = {t:String} AND chain = {c:String} ${after === undefined ? '' : 'AND batch_seq > {after:UInt64}'}
                ORDER BY batch_seq LIMIT {n:UInt32} WITH TIES`,
        query_params: { t: table, c: chain, after: after ?? 0, n: perPage },
        format: 'JSONEachRow',
      })
    ).json<Record<string, unknown>>();
    for (const row of rows) yield recordFromRow(row);
    if (rows.length < perPage) return;
    after = Number(rows[rows.length - 1]!.batch_seq);
  }
}

async function lastRecord(
  client: StoreClient,
  table: string,
  chain: string,
): Promise<ChainRecord | undefined> {
  const [row] = await (
    await client.query({
      query: `SELECT * EXCEPT entries FROM ${CHAIN_TABLE}
              WHERE tbl = {t:String} AND chain = {c:String} ORDER BY batch_seq DESC LIMIT 1`,
      query_params: { t: table, c: chain },
      format: 'JSONEachRow',
    })
  ).json<Record<string, unknown>>();
  return row ? recordFromRow(row) : undefined;
}

export function createAuditChain(opts: AuditChainOptions): AuditChain {
  let shape: TableShape | undefined;
  let position: ChainPosition | undefined;
  let ready: Promise<void> | undefined;
  let closed = false;
  const recent: string[] = [];
  const recentWindow = opts.recentWindow ?? 100;

  async function append(record: ChainRecord): Promise<void> {
    // The token is the head: a retried append that did land is dropped as a duplicate.
    for (let attempt = 1; ; attempt++) {
      try {
        await insertRows(opts.client, CHAIN_TABLE, [recordRow(record)], `chain-${record.head}`);
        break;
      } catch (err) {
        opts.onError?.(err, attempt);
        if (closed && attempt >= 3) throw err;
        await sleep(Math.min(5_000, 100 * 2 ** Math.min(attempt, 6)));
      }
    }
    writeHeadFile(opts.dataDir, opts.key, record);
    rmSync(pendingPath(opts.dataDir, opts.table), { force: true });
    position = { seq: record.batch_seq, head: record.head };
    recent.push(record.batch_digest);
    if (recent.length > recentWindow) recent.shift();
  }

  /** Settles what a crash left behind, then positions the chain at its head. */
  async function init(): Promise<void> {
    shape = await tableShape(opts.client, opts.table);
    const file = readHeadFile(opts.dataDir, opts.table);
    const stored = await lastRecord(opts.client, opts.table, opts.chain);
    if (file) {
      position = { seq: file.seq, head: file.head };
      if (stored && stored.batch_seq < file.seq)
        opts.onWarning?.(
          `audit chain ${opts.table}: the store's last record is ${stored.batch_seq}, the head file says ${file.seq}`,
        );
    } else if (stored) {
      opts.onWarning?.(
        `audit chain ${opts.table}: no head file, resuming from the store's record ${stored.batch_seq}`,
      );
      position = { seq: stored.batch_seq, head: stored.head };
    } else {
      position = { seq: 0, head: genesisHead(opts.table, opts.chain) };
    }
    const pending = readPendingFile(opts.dataDir, opts.table);
    if (!pending) return;
    if (pending.batch_seq !== position.seq + 1 || pending.prev_head !== position.head) {
      rmSync(pendingPath(opts.dataDir, opts.table), { force: true });
      return;
    }
    if (stored && stored.batch_seq === pending.batch_seq && stored.head === pending.head) {
      // The record landed, the head file did not move.
      writeHeadFile(opts.dataDir, opts.key, pending);
      rmSync(pendingPath(opts.dataDir, opts.table), { force: true });
      position = { seq: pending.batch_seq, head: pending.head };
      return;
    }
    // Did the insert land before the crash? Look at what was stored around it.
    const wanted = new Set(pending.entries);
    const found = new Set<string>();
    for await (const r of storedEntries(opts.client, shape, pending.time - 10 * 60_000)) {
      if (wanted.has(r.entry)) found.add(r.entry);
    }
    if (found.size === 0) {
      rmSync(pendingPath(opts.dataDir, opts.table), { force: true });
      return;
    }
    const kept = pending.entries.filter((e) => found.has(e));
    const digest = batchDigest(opts.table, kept);
    const head = nextHead(position.head, digest);
    opts.onWarning?.(
      `audit chain ${opts.table}: recorded batch ${pending.batch_seq} (${kept.length} rows) inserted before a crash`,
    );
    await append({
      ...pending,
      entries: kept,
      row_count: kept.length,
      batch_digest: digest,
      head,
      time: Date.now(),
      mac: chainMac(opts.key, opts.table, opts.chain, pending.batch_seq, head),
    });
  }

  return {
    position: () => position,
    close() {
      closed = true;
    },
    async insert(rows, write) {
      ready ??= init().catch((err) => {
        ready = undefined; // try again with the next batch
        throw err;
      });
      await ready;
      const record = sealBatch(shape!, rows, {
        chain: opts.chain,
        prev: position!,
        key: opts.key,
        now: Date.now(),
      });
      const token = `chain-${record.batch_digest}`;
      // The same content within the deduplication window: ClickHouse drops the insert, the rows
      // already stored are those of the recorded batch.
      if (recent.includes(record.batch_digest)) {
        await write(token);
        return;
      }
      writeAtomic(pendingPath(opts.dataDir, opts.table), JSON.stringify(record));
      await write(token);
      await append({ ...record, time: Date.now() });
    },
  };
}

// ------------------------------------------------------------------------------------ verification

export type ProblemKind =
  | 'modified'
  | 'deleted'
  | 'inserted'
  | 'chain-broken'
  | 'record-modified'
  | 'mac-invalid'
  | 'head-mismatch'
  | 'head-missing';

export interface Problem {
  readonly table: string;
  readonly kind: ProblemKind;
  /** The batch concerned (its sequence number in the chain), when one is. */
  readonly batch?: number;
  readonly rows?: number;
  readonly detail: string;
}

/** Checks a chain's records (sorted by seq) against each other, the HMAC key and the head file. */
export function checkChain(
  table: string,
  chain: string,
  records: readonly ChainRecord[],
  opts: { key?: Buffer; head?: HeadFile },
): Problem[] {
  const checker = createChainChecker(table, chain, opts);
  for (const r of records) checker.add(r);
  return checker.finish();
}

export interface ChainChecker {
  /** The next record, in batch_seq order (records with equal seq next to each other). */
  add(record: ChainRecord): void;
  /** The problems found, the head file compared with the last record. */
  finish(): Problem[];
}

/**
 * The chain checked one record at a time: only the previous record is kept, so a chain of any
 * length is checked in constant memory as `verifyAuditTrail` pages through it.
 */
export function createChainChecker(
  table: string,
  chain: string,
  opts: { key?: Buffer; head?: HeadFile },
): ChainChecker {
  const problems: Problem[] = [];
  let prev: ChainRecord | undefined;
  let any = false;
  return {
    add(r) {
      any = true;
      if (prev && r.batch_seq === prev.batch_seq) {
        problems.push({
          table,
          kind: 'chain-broken',
          batch: r.batch_seq,
          detail: `two records claim batch ${r.batch_seq}`,
        });
        return;
      }
      const expectedPrev = prev ? prev.head : r.batch_seq === 1 ? genesisHead(table, chain) : undefined;
      if (prev && r.batch_seq !== prev.batch_seq + 1)
        problems.push({
          table,
          kind: 'chain-broken',
          batch: prev.batch_seq + 1,
          detail: `batches ${prev.batch_seq + 1}..${r.batch_seq - 1} are missing from the chain`,
        });
      else if (!prev && r.batch_seq !== 1)
        problems.push({
          table,
          kind: 'chain-broken',
          batch: 1,
          detail: `batches 1..${r.batch_seq - 1} are missing from the chain`,
        });
      if (expectedPrev !== undefined && r.prev_head !== expectedPrev)
        problems.push({
          table,
          kind: 'chain-broken',
          batch: r.batch_seq,
          detail: 'does not follow the previous head',
        });
      if (
        batchDigest(table, r.entries) !== r.batch_digest ||
        nextHead(r.prev_head, r.batch_digest) !== r.head ||
        r.row_count !== r.entries.length
      )
        problems.push({
          table,
          kind: 'record-modified',
          batch: r.batch_seq,
          detail: 'chain record does not hash to its head',
        });
      if (opts.key && !sameHex(r.mac, chainMac(opts.key, table, chain, r.batch_seq, r.head)))
        problems.push({
          table,
          kind: 'mac-invalid',
          batch: r.batch_seq,
          detail: 'HMAC does not match (record forged or rewritten)',
        });
      // Only what the next record and the head file are checked against: not the entries.
      prev = { ...r, entries: [] };
    },
    finish() {
      const head = opts.head;
      if (!head) {
        if (any)
          problems.push({
            table,
            kind: 'head-missing',
            detail: 'no head file: the chain cannot be anchored',
          });
        return problems;
      }
      if (opts.key && !sameHex(String(head.mac ?? ''), chainMac(opts.key, table, chain, head.seq, head.head)))
        problems.push({
          table,
          kind: 'mac-invalid',
          batch: head.seq,
          detail: 'the head file HMAC does not match (head file edited)',
        });
      const last = prev;
      if (!last || last.batch_seq < head.seq)
        problems.push({
          table,
          kind: 'head-mismatch',
          batch: head.seq,
          detail: `the head file is at batch ${head.seq}, the store's chain ends at ${last?.batch_seq ?? 0} (records deleted)`,
        });
      else if (last.batch_seq > head.seq)
        problems.push({
          table,
          kind: 'head-mismatch',
          batch: head.seq + 1,
          detail: `the store's chain goes on past the head file (batch ${head.seq}) to ${last.batch_seq}`,
        });
      else if (last.head !== head.head)
        problems.push({
          table,
          kind: 'head-mismatch',
          batch: head.seq,
          detail: 'the chain head differs from the head file',
        });
      return problems;
    },
  };
}

export interface StoredRowEntry {
  readonly key: string;
  readonly entry: string;
  /** Epoch ms the row was stored (0 when the table does not say). */
  readonly stored?: number;
}

/** What the row comparison needs of a recorded batch. */
export type RecordedBatch = Pick<ChainRecord, 'batch_seq' | 'time' | 'min_time' | 'entries'>;
export type BatchInfo = Omit<RecordedBatch, 'entries'>;

export interface CheckRowsOptions {
  /** Whether a batch's rows may have been dropped by retention. */
  readonly expired?: (batch: BatchInfo) => boolean;
  /** Whether a batch's rows were all scanned (with --since, older ones were not). */
  readonly inScope?: (batch: BatchInfo) => boolean;
  /** Whether a row no batch recorded is reported (with --since, only rows stored since). */
  readonly reportUncovered?: (row: StoredRowEntry) => boolean;
}

/** Rows found wrong, per batch: what `checkRows` reports, in a form that adds up across parts. */
export interface RowTally {
  readonly modified: Map<number, number>;
  readonly deleted: Map<number, number>;
  readonly duplicated: Map<number, number>;
  uncovered: number;
  /** The keys of the first few uncovered rows (shown in the report). */
  readonly uncoveredKeys: string[];
}

const UNCOVERED_EXAMPLES = 3;

export function emptyTally(): RowTally {
  return { modified: new Map(), deleted: new Map(), duplicated: new Map(), uncovered: 0, uncoveredKeys: [] };
}

const bump = (m: Map<number, number>, seq: number, n = 1) => m.set(seq, (m.get(seq) ?? 0) + n);

/** Adds `part` into `into`: the rules are per key, so tallies of disjoint key sets simply add. */
export function addTally(into: RowTally, part: RowTally): RowTally {
  for (const k of ['modified', 'deleted', 'duplicated'] as const)
    for (const [seq, n] of part[k]) bump(into[k], seq, n);
  into.uncovered += part.uncovered;
  for (const key of part.uncoveredKeys)
    if (into.uncoveredKeys.length < UNCOVERED_EXAMPLES) into.uncoveredKeys.push(key);
  return into;
}

/** Compares stored rows with the recorded entries (pure); see the rules at the top of the file. */
export function checkRows(
  shape: Pick<TableShape, 'table' | 'folds'>,
  records: readonly RecordedBatch[],
  rows: Iterable<StoredRowEntry>,
  opts: CheckRowsOptions = {},
): Problem[] {
  return rowProblems(shape.table, tallyRows(shape, records, rows, opts));
}

/**
 * The per-key comparison behind `checkRows`. Every rule looks at one sorting key at a time, so
 * the rows and entries can be split by key hash and the parts' tallies added (`addTally`).
 */
export function tallyRows(
  shape: Pick<TableShape, 'table' | 'folds'>,
  records: readonly RecordedBatch[],
  rows: Iterable<StoredRowEntry>,
  opts: CheckRowsOptions = {},
): RowTally {
  const inScope = opts.inScope ?? (() => true);
  interface Coverage {
    /** Recorded copies of each content digest: all batches, and batches in scope. */
    readonly leaves: Map<string, number>;
    readonly scoped: Map<string, number>;
    latest: string;
    latestBatch: BatchInfo;
  }
  const coverage = new Map<string, Coverage>();
  for (const r of [...records].sort((a, b) => a.batch_seq - b.batch_seq)) {
    const scoped = inScope(r);
    for (const e of r.entries) {
      const kh = e.slice(0, KEY_HASH_CHARS);
      const leaf = e.slice(KEY_HASH_CHARS);
      let c = coverage.get(kh);
      if (!c) {
        c = { leaves: new Map(), scoped: new Map(), latest: leaf, latestBatch: r };
        coverage.set(kh, c);
      }
      c.leaves.set(leaf, (c.leaves.get(leaf) ?? 0) + 1);
      if (scoped) c.scoped.set(leaf, (c.scoped.get(leaf) ?? 0) + 1);
      c.latest = leaf;
      c.latestBatch = r;
    }
  }
  const tally = emptyTally();
  const present = new Map<string, Map<string, number>>();
  const foreign = new Set<string>();
  for (const row of rows) {
    const kh = row.entry.slice(0, KEY_HASH_CHARS);
    const leaf = row.entry.slice(KEY_HASH_CHARS);
    const c = coverage.get(kh);
    if (!c) {
      if (opts.reportUncovered?.(row) ?? true) {
        tally.uncovered++;
        if (tally.uncoveredKeys.length < UNCOVERED_EXAMPLES) tally.uncoveredKeys.push(row.key);
      }
      continue;
    }
    if (!c.leaves.has(leaf)) foreign.add(kh);
    let p = present.get(kh);
    if (!p) {
      p = new Map();
      present.set(kh, p);
    }
    p.set(leaf, (p.get(leaf) ?? 0) + 1);
  }
  const { modified, deleted, duplicated } = tally;
  for (const [kh, c] of coverage) {
    const batch = c.latestBatch;
    const p = present.get(kh);
    if (foreign.has(kh)) {
      bump(modified, batch.batch_seq);
      continue;
    }
    if (!inScope(batch) && !shape.folds && c.scoped.size === 0) continue;
    if (!p) {
      if (inScope(batch) && !opts.expired?.(batch)) bump(deleted, batch.batch_seq);
      continue;
    }
    if (shape.folds) {
      // The newest recorded version must survive; an older one in its place is a roll-back.
      if (inScope(batch) && !p.has(c.latest)) bump(modified, batch.batch_seq);
      continue;
    }
    // Nothing folds: every recorded copy is stored, and no more copies than were recorded.
    for (const [leaf, n] of c.scoped) {
      const have = p.get(leaf) ?? 0;
      if (have < n && !opts.expired?.(batch)) bump(deleted, batch.batch_seq, n - have);
    }
    for (const [leaf, have] of p) {
      const n = c.leaves.get(leaf) ?? 0;
      if (have > n) bump(duplicated, batch.batch_seq, have - n);
    }
  }
  return tally;
}

/** The problems a tally stands for, batches in order. */
export function rowProblems(table: string, tally: RowTally): Problem[] {
  const problems: Problem[] = [];
  const plural = (n: number) => (n === 1 ? 'row' : 'rows');
  const sorted = (m: Map<number, number>) => [...m].sort((a, b) => a[0] - b[0]);
  for (const [batch, n] of sorted(tally.modified))
    problems.push({
      table,
      kind: 'modified',
      batch,
      rows: n,
      detail: `${n} ${plural(n)} changed since batch ${batch} stored them`,
    });
  for (const [batch, n] of sorted(tally.deleted))
    problems.push({
      table,
      kind: 'deleted',
      batch,
      rows: n,
      detail: `${n} ${plural(n)} of batch ${batch} are missing`,
    });
  for (const [batch, n] of sorted(tally.duplicated))
    problems.push({
      table,
      kind: 'inserted',
      batch,
      rows: n,
      detail: `${n} extra ${n === 1 ? 'copy' : 'copies'} of rows of batch ${batch}`,
    });
  const n = tally.uncovered;
  if (n)
    problems.push({
      table,
      kind: 'inserted',
      rows: n,
      detail: `${n} ${plural(n)} that no batch recorded, e.g. key ${tally.uncoveredKeys.join(' ')}`,
    });
  return problems;
}

export interface VerifyOptions {
  readonly client: StoreClient;
  readonly dataDir: string;
  readonly chain: string;
  readonly key: Buffer;
  /** Only batches recorded and rows stored since then (epoch ms). */
  readonly since?: number;
  readonly tables?: readonly string[];
  readonly now?: number;
  /**
   * Rows (stored rows, recorded entries) held in memory at once, roughly: the chain and the data
   * are read in pages of this size and compared in buckets of about this many keys.
   * @defaultValue 50000
   */
  readonly pageSize?: number;
}

export interface TableReport {
  readonly table: string;
  readonly batches: number;
  readonly rows: number;
  /** Batches inserted before a crash, recorded when vigil next starts. */
  readonly pending: number;
  readonly intact: boolean;
  readonly problems: Problem[];
}

export interface VerifyReport {
  readonly intact: boolean;
  readonly tables: TableReport[];
}

/** Rows stored up to this long before `since` are still read (clock skew, insert latency). */
const SINCE_SLACK_MS = 5 * 60_000;

/** What is buffered for the spill files before they are appended to. */
const SPILL_BUFFER_CHARS = 4 << 20;

/**
 * Lines sorted into bucket files by key hash, so each bucket (every recorded entry and stored row
 * of its keys) can be compared on its own. Bucket files hold key hashes, digests and sorting keys
 * (tokens and times): nothing the store does not already hold.
 */
interface Spill {
  readonly buckets: number;
  add(bucket: number, line: string): Promise<void>;
  /** Every line of a bucket (after `flush`). */
  lines(bucket: number): Promise<string[]>;
  flush(): Promise<void>;
  remove(): Promise<void>;
}

/** Spill files go under the data directory: the store's disk, not a /tmp that may be in memory. */
async function createSpill(dataDir: string, buckets: number, name: string): Promise<Spill> {
  const root = path.join(dataDir, 'tmp');
  await mkdir(root, { recursive: true, mode: 0o700 });
  const dir = await mkdtemp(path.join(root, 'verify-'));
  await chmod(dir, 0o700);
  const file = (b: number) => path.join(dir, `${name}-${b}`);
  let pending: string[][] = Array.from({ length: buckets }, () => []);
  let buffered = 0;
  const flush = async () => {
    const out = pending;
    pending = Array.from({ length: buckets }, () => []);
    buffered = 0;
    for (const [b, lines] of out.entries())
      if (lines.length) await appendFile(file(b), `${lines.join('\n')}\n`, { mode: 0o600 });
  };
  return {
    buckets,
    async add(bucket, line) {
      pending[bucket]!.push(line);
      buffered += line.length;
      if (buffered >= SPILL_BUFFER_CHARS) await flush();
    },
    async lines(bucket) {
      const text = await readFile(file(bucket), 'utf8').catch(() => '');
      return text ? text.slice(0, -1).split('\n') : [];
    },
    flush,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** A key hash's bucket: its first 8 hex digits are uniform. */
const bucketOf = (entry: string, buckets: number) =>
  buckets === 1 ? 0 : Number.parseInt(entry.slice(0, 8), 16) % buckets;

async function chainStats(
  client: StoreClient,
  table: string,
): Promise<{ chains: string[]; entries: number; widest: number }> {
  const [stats] = await (
    await client.query({
      query: `SELECT groupUniqArray(chain) AS chains, sum(row_count) AS entries, max(row_count) AS widest
              FROM ${CHAIN_TABLE} WHERE tbl = {t:String}`,
      query_params: { t: table },
      format: 'JSONEachRow',
    })
  ).json<{ chains: string[]; entries: number | string; widest: number | string }>();
  return {
    chains: [...(stats?.chains ?? [])].sort(),
    entries: Number(stats?.entries ?? 0),
    widest: Number(stats?.widest ?? 0),
  };
}

async function storedCount(client: StoreClient, shape: TableShape, sinceMs?: number): Promise<number> {
  const where =
    sinceMs !== undefined && shape.insertTimeColumn
      ? `WHERE ${shape.insertTimeColumn} >= fromUnixTimestamp64Milli({since:Int64})`
      : '';
  const [row] = await (
    await client.query({
      query: `SELECT count() AS n FROM ${shape.table} ${where}`,
      query_params: { since: sinceMs ?? 0 },
      format: 'JSONEachRow',
    })
  ).json<{ n: number | string }>();
  return Number(row?.n ?? 0);
}

/**
 * Recomputes every stored row's digest, compares them with the recorded batches and checks the
 * chain against the HMAC key and the head files. With `since`, only rows stored since then are
 * read (a full run also catches rows forged with an old stored_time).
 *
 * Memory is bounded by `pageSize`, not by the store: the chain is read in pages of batches and
 * checked link by link; recorded entries and stored rows (read in pages of rows) are written to
 * bucket files by key hash; then each bucket is compared on its own and the results added. The
 * rules are per sorting key, so the answer is the same as comparing everything at once.
 */
export async function verifyAuditTrail(opts: VerifyOptions): Promise<VerifyReport> {
  const now = opts.now ?? Date.now();
  const since = opts.since;
  const pageSize = Math.max(1, opts.pageSize ?? DEFAULT_PAGE_ROWS);
  const reports: TableReport[] = [];
  for (const table of opts.tables ?? CHAINED_TABLES) {
    const shape = await tableShape(opts.client, table);
    const problems: Problem[] = [];
    const head = readHeadFile(opts.dataDir, table);
    // A batch whose insert was under way when the process died is settled at the next start;
    // until then its rows are accounted for, not reported.
    const pending = readPendingFile(opts.dataDir, table);
    const settling =
      pending && pending.chain === opts.chain && pending.batch_seq === (head?.seq ?? 0) + 1 ? [pending] : [];
    const scanFrom = since === undefined ? undefined : since - SINCE_SLACK_MS;
    const stats = await chainStats(opts.client, table);
    const chains = [...new Set([opts.chain, ...stats.chains])].sort();
    const stored = await storedCount(opts.client, shape, scanFrom);
    const buckets = Math.max(1, Math.ceil(Math.max(stats.entries, stored) / pageSize));
    const inScope = (b: BatchInfo) => since === undefined || b.time >= since;
    let batches = 0;
    let rows = 0;
    const entrySpill = await createSpill(opts.dataDir, buckets, 'entries');
    const rowSpill = await createSpill(opts.dataDir, buckets, 'rows');
    try {
      // Each recorded entry as `entry seq order time min_time`; `order` keeps the records' order
      // (seq, then chain) that decides which entry of a key is the latest.
      const spillRecord = async (r: ChainRecord, chainIndex: number) => {
        for (const e of r.entries)
          await entrySpill.add(
            bucketOf(e, buckets),
            `${e}\t${r.batch_seq}\t${chainIndex}\t${r.time}\t${r.min_time}`,
          );
      };
      const perPage = Math.max(1, Math.floor(pageSize / Math.max(1, stats.widest)));
      for (const [chainIndex, chain] of chains.entries()) {
        const own = chain === opts.chain;
        // Another process's chain: its links are checked; its key and head file live on its host.
        const checker = createChainChecker(table, chain, {
          key: own ? opts.key : undefined,
          head: own ? head : undefined,
        });
        for await (const r of chainRecords(opts.client, table, chain, perPage)) {
          checker.add(r);
          if (inScope(r)) batches++;
          await spillRecord(r, chainIndex);
        }
        problems.push(...checker.finish().filter((p) => own || p.kind !== 'head-missing'));
        if (own) for (const r of settling) await spillRecord(r, chainIndex);
      }
      for await (const r of storedEntries(opts.client, shape, scanFrom, pageSize)) {
        rows++;
        await rowSpill.add(bucketOf(r.entry, buckets), `${r.entry}\t${r.stored}\t${r.key}`);
      }
      await Promise.all([entrySpill.flush(), rowSpill.flush()]);
      const horizon = shape.ttl ? now - shape.ttl.days * 86_400_000 : undefined;
      const tally = emptyTally();
      for (let b = 0; b < buckets; b++) {
        addTally(
          tally,
          tallyRows(shape, recordsOf(await entrySpill.lines(b)), rowsOf(await rowSpill.lines(b)), {
            // Retention drops rows by event time; an hour of slack for TTL merges running late.
            expired: (batch) => horizon !== undefined && batch.min_time < horizon + 3_600_000,
            inScope,
            reportUncovered: (row) => since === undefined || (row.stored ?? 0) >= since,
          }),
        );
      }
      problems.push(...rowProblems(table, tally));
    } finally {
      await Promise.all([entrySpill.remove(), rowSpill.remove()]);
    }
    reports.push({
      table,
      batches,
      rows,
      pending: settling.length,
      intact: problems.length === 0,
      problems,
    });
  }
  return { intact: reports.every((r) => r.intact), tables: reports };
}

/** A bucket's recorded entries back as batches, in the order the chain records them. */
function recordsOf(lines: readonly string[]): RecordedBatch[] {
  const batches = new Map<string, BatchInfo & { order: number; entries: string[] }>();
  for (const line of lines) {
    const [entry, seq, order, time, minTime] = line.split('\t') as [string, string, string, string, string];
    const id = `${seq}\t${order}`;
    let b = batches.get(id);
    if (!b) {
      b = {
        batch_seq: Number(seq),
        order: Number(order),
        time: Number(time),
        min_time: Number(minTime),
        entries: [],
      };
      batches.set(id, b);
    }
    b.entries.push(entry);
  }
  return [...batches.values()].sort((a, b) => a.batch_seq - b.batch_seq || a.order - b.order);
}

function rowsOf(lines: readonly string[]): StoredRowEntry[] {
  return lines.map((line) => {
    const tab = line.indexOf('\t');
    const tab2 = line.indexOf('\t', tab + 1);
    return {
      entry: line.slice(0, tab),
      stored: Number(line.slice(tab + 1, tab2)),
      key: line.slice(tab2 + 1),
    };
  });
}

/** One line per table, then one per problem. */
export function formatVerifyReport(report: VerifyReport): string {
  const lines: string[] = [];
  for (const t of report.tables) {
    const pending = t.pending ? `, ${t.pending} pending until the next start` : '';
    lines.push(
      `${t.table}: ${t.intact ? 'intact' : 'TAMPERED'} (${t.batches} batches, ${t.rows} rows${pending})`,
    );
    for (const p of t.problems)
      lines.push(`  ${p.kind}${p.batch !== undefined ? ` batch ${p.batch}` : ''}: ${p.detail}`);
  }
  lines.push(report.intact ? 'audit trail intact' : 'audit trail NOT intact');
  return lines.join('\n');
}
