// Reading exportable records out of the store, page by page, in a stable order (time, id), and the
// sinks' checkpoints. Parameterised SQL only. Two ways to walk a table:
//  - `readAfter` (streaming sinks): by *store* time, so a record inserted late with an old event time
//    (a replay, a re-issued finding) is still exported; each stored version is a record.
//  - `readRange` (batch export): by the record's own time, latest version only (FINAL).
import {
  chTime,
  findingFromRow,
  incidentFromRow,
  type StoreClient,
  tenantScopeParams,
  tenantScopeWhere,
} from '../store/index.js';
import type { AccessEvent, Action } from '../model/index.js';
import type { ExportKind, ExportRecord } from './record.js';

export interface Cursor {
  /** Epoch ms of the walked time column. */
  readonly time: number;
  readonly id: string;
}

export const START: Cursor = Object.freeze({ time: 0, id: '' });

export interface CursorRecord {
  readonly record: ExportRecord;
  readonly cursor: Cursor;
}

interface KindTable {
  readonly table: string;
  readonly id: string;
  /** Walked by streaming sinks: when the row reached the store. */
  readonly storeTime: string;
  /**
   * Whose clock wrote `storeTime`: the engine's (a column DEFAULT) or vigil's (set at write). A row
   * settles by the same clock, so a skew between the two hosts (a ClickHouse server's clock ahead
   * of or behind vigil's) neither holds rows back nor lets a late row slip behind the cursor.
   */
  readonly storeClock: 'engine' | 'vigil';
  /** Walked by range exports: when the record happened. */
  readonly recordTime: string;
  /** DateTime64 columns converted to epoch ms in the select. */
  readonly times: readonly string[];
}

const TABLES: Record<ExportKind, KindTable> = {
  finding: {
    table: 'findings',
    id: 'finding_id',
    storeTime: 'stored_time',
    storeClock: 'engine',
    recordTime: 'event_time',
    times: ['event_time', 'first_fired_time', 'detected_time', 'first_observed_time'],
  },
  // Incidents and actions carry no store time: their own update time is wall-clock at write
  // (the responder's clock), a few writer milliseconds before the row lands.
  incident: {
    table: 'incidents',
    id: 'incident_id',
    storeTime: 'updated_time',
    storeClock: 'vigil',
    recordTime: 'updated_time',
    times: ['opened_time', 'last_event_time', 'updated_time'],
  },
  action: {
    table: 'actions',
    id: 'action_id',
    storeTime: 'time',
    storeClock: 'vigil',
    recordTime: 'time',
    times: ['time'],
  },
  event: {
    table: 'events',
    id: 'event_id',
    storeTime: 'stored_time',
    storeClock: 'engine',
    recordTime: 'time',
    times: ['time', 'observed_time'],
  },
};

function selectList(t: KindTable, kind: ExportKind, alias = ''): string {
  const p = alias ? `${alias}.` : '';
  const except = [...t.times, ...(t.storeTime === 'stored_time' ? ['stored_time'] : [])];
  const cols = [
    `${p}* EXCEPT (${except.join(', ')})`,
    ...t.times.map((c) => `toUnixTimestamp64Milli(${p}${c}) AS ${c}`),
  ];
  if (kind === 'action') cols.push('inc.inc_actor AS _actor');
  return cols.join(', ');
}

const actionJoin = `LEFT JOIN (SELECT incident_id, argMax(actor, updated_time) AS inc_actor FROM incidents
  GROUP BY incident_id) AS inc ON inc.incident_id = t.incident_id`;

export interface ReadOptions {
  readonly limit: number;
  /** Only this tenant, or these tenants ('' or absent = all; an empty list: none). */
  readonly tenant?: string | readonly string[];
}

/** Records stored after `after`, oldest first; rows younger than `settleMs` wait for the next poll. */
export async function readAfter(
  client: StoreClient,
  kind: ExportKind,
  after: Cursor,
  opts: ReadOptions & { settleMs: number; now?: number },
): Promise<CursorRecord[]> {
  const t = TABLES[kind];
  const settled =
    t.storeClock === 'engine'
      ? 'now64(3) - toIntervalMillisecond({settle:UInt32})'
      : "fromUnixTimestamp64Milli({vigil_now:Int64}, 'UTC') - toIntervalMillisecond({settle:UInt32})";
  const rows = await client.query<Record<string, unknown>>(
    `SELECT ${selectList(t, kind, 't')},
              toUnixTimestamp64Milli(t.${t.storeTime}) AS _cursor_time, t.${t.id} AS _cursor_id
            FROM ${t.table} AS t ${kind === 'action' ? actionJoin : ''}
            WHERE (t.${t.storeTime}, t.${t.id}) > (fromUnixTimestamp64Milli({after_time:Int64}, 'UTC'), {after_id:String})
              AND t.${t.storeTime} <= ${settled}
              AND ${tenantScopeWhere('t.tenant')}
            ORDER BY t.${t.storeTime}, t.${t.id}
            LIMIT {limit:UInt32}`,
    {
      after_time: after.time,
      after_id: after.id,
      settle: Math.max(0, Math.trunc(opts.settleMs)),
      vigil_now: Math.trunc(opts.now ?? Date.now()),
      ...tenantScopeParams({ tenants: tenantsOf(opts.tenant) }),
      limit: opts.limit,
    },
  );
  return rows.map((row) => toCursorRecord(kind, row));
}

function tenantsOf(tenant: ReadOptions['tenant']): readonly string[] | undefined {
  if (tenant === undefined || tenant === '') return undefined;
  return typeof tenant === 'string' ? [tenant] : tenant;
}

export interface Range {
  /** Inclusive, epoch ms. */
  readonly since: number;
  /** Exclusive, epoch ms. */
  readonly until: number;
  readonly tenant?: string;
}

/** One page of records whose own time is in [since, until), after `after`, oldest first. */
export async function readRange(
  client: StoreClient,
  kind: ExportKind,
  range: Range,
  after: Cursor,
  limit: number,
): Promise<CursorRecord[]> {
  const t = TABLES[kind];
  const rows = await client.query<Record<string, unknown>>(
    `SELECT ${selectList(t, kind, 't')},
              toUnixTimestamp64Milli(t.${t.recordTime}) AS _cursor_time, t.${t.id} AS _cursor_id
            FROM ${t.table} AS t ${kind === 'action' ? '' : 'FINAL'} ${kind === 'action' ? actionJoin : ''}
            WHERE ${rangeWhere(t)}
              AND (t.${t.recordTime}, t.${t.id}) > (fromUnixTimestamp64Milli({after_time:Int64}, 'UTC'), {after_id:String})
            ORDER BY t.${t.recordTime}, t.${t.id}
            LIMIT {limit:UInt32}`,
    { ...rangeParams(range), after_time: after.time, after_id: after.id, limit },
  );
  return rows.map((row) => toCursorRecord(kind, row));
}

/** How many records `readRange` will walk (for progress). */
export async function countRange(client: StoreClient, kind: ExportKind, range: Range): Promise<number> {
  const t = TABLES[kind];
  const rows = await client.query<{ n: string }>(
    `SELECT count() AS n FROM ${t.table} AS t ${kind === 'action' ? '' : 'FINAL'} WHERE ${rangeWhere(t)}`,
    rangeParams(range),
  );
  return Number(rows[0]?.n ?? 0);
}

function rangeWhere(t: KindTable): string {
  return `t.${t.recordTime} >= fromUnixTimestamp64Milli({since:Int64}, 'UTC')
    AND t.${t.recordTime} < fromUnixTimestamp64Milli({until:Int64}, 'UTC')
    AND ({tenant:String} = '' OR t.tenant = {tenant:String})`;
}

function rangeParams(r: Range): Record<string, unknown> {
  return { since: Math.trunc(r.since), until: Math.trunc(r.until), tenant: r.tenant ?? '' };
}

const num = (v: unknown) => Number(v ?? 0);
/** A Nullable count column: null (unknown) stays null. */
const numOrNull = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/** A row back into the model's types (64-bit integers arrive as strings in JSON). */
function toCursorRecord(kind: ExportKind, row: Record<string, unknown>): CursorRecord {
  const cursor = { time: num(row._cursor_time), id: String(row._cursor_id) };
  const { _cursor_time: _t, _cursor_id: _i, _actor, ...rest } = row;
  for (const c of TABLES[kind].times) rest[c] = num(rest[c]);
  switch (kind) {
    case 'finding':
      return { cursor, record: { kind, value: findingFromRow(rest) } };
    case 'incident':
      return { cursor, record: { kind, value: incidentFromRow(rest) } };
    case 'action':
      return {
        cursor,
        record: {
          kind,
          value: { ...(rest as unknown as Action), attempt: num(rest.attempt) },
          actor: String(_actor ?? ''),
        },
      };
    case 'event': {
      const e = rest as unknown as AccessEvent;
      return {
        cursor,
        record: {
          kind,
          value: {
            ...e,
            top_k: numOrNull(e.top_k),
            returned: numOrNull(e.returned),
            vectors_returned: numOrNull(e.vectors_returned),
            bytes_out: numOrNull(e.bytes_out),
            status_code: num(e.status_code),
            latency_ms: num(e.latency_ms),
          },
        },
      };
    }
  }
}

export interface ExportCheckpoint {
  readonly kind: ExportKind;
  readonly cursor: Cursor;
  readonly exported: number;
}

export async function loadExportCheckpoints(client: StoreClient, sink: string): Promise<ExportCheckpoint[]> {
  const rows = await client.query<{ kind: ExportKind; t: string; last_id: string; exported: string }>(
    `SELECT kind, toUnixTimestamp64Milli(last_time) AS t, last_id, exported
            FROM export_checkpoints FINAL WHERE sink = {sink:String}`,
    { sink },
  );
  return rows.map((r) => ({
    kind: r.kind,
    cursor: { time: Number(r.t), id: r.last_id },
    exported: Number(r.exported),
  }));
}

export async function saveExportCheckpoint(
  client: StoreClient,
  sink: string,
  checkpoint: ExportCheckpoint,
): Promise<void> {
  await client.insert('export_checkpoints', [
    {
      sink,
      kind: checkpoint.kind,
      last_time: chTime(checkpoint.cursor.time),
      last_id: checkpoint.cursor.id,
      exported: checkpoint.exported,
    },
  ]);
}
