// Read queries used by the CLI, the admin API and the responder. Parameterised SQL only.
import type { Finding, Incident } from '../model/index.js';
import type { StoreClient } from './client.js';
import type { FindingFilter } from './finding-query.js';
import { findingFromRow, incidentFromRow } from './rows.js';

export interface ListOptions extends TenantScope {
  readonly tenant?: string;
  readonly limit?: number;
}

/** The tenants a reader may see: its credential's binding (pipeline `tenancy`). */
export interface TenantScope {
  /** Only rows of these tenants; undefined: every tenant; empty: none. */
  readonly tenants?: readonly string[];
}

/** A WHERE condition keeping `column`'s rows of the scope (with `tenantScopeParams`). */
export const tenantScopeWhere = (column = 'tenant') =>
  `({all_tenants:UInt8} = 1 OR ${column} IN {tenants:Array(String)})`;

export function tenantScopeParams(scope: TenantScope): { all_tenants: 0 | 1; tenants: readonly string[] } {
  return { all_tenants: scope.tenants === undefined ? 1 : 0, tenants: scope.tenants ?? [] };
}

const ms = (col: string) => `toUnixTimestamp64Milli(${col}) AS ${col}`;

/**
 * Findings newest first (by event_time, then finding_id), filtered; `after` continues a listing
 * from a page's last row (src/store/finding-query.ts).
 */
export async function listFindings(
  client: StoreClient,
  opts: ListOptions & FindingFilter = {},
): Promise<Finding[]> {
  const rows = await client.query<Record<string, unknown>>(
    // The filters run on the stored columns in the inner query: in ClickHouse a SELECT alias shadows
    // the column of its name in WHERE, and the outer query renames event_time to epoch ms.
    `SELECT * EXCEPT (event_time, first_fired_time, detected_time, first_observed_time, stored_time),
              ${ms('event_time')}, ${ms('first_fired_time')}, ${ms('detected_time')}, ${ms('first_observed_time')}
            FROM (
              SELECT * FROM findings FINAL
              WHERE ({tenant:String} = '' OR tenant = {tenant:String}) AND ${tenantScopeWhere()}
                AND ({has_since:UInt8} = 0 OR event_time >= fromUnixTimestamp64Milli({since:Int64}, 'UTC'))
                AND ({has_until:UInt8} = 0 OR event_time < fromUnixTimestamp64Milli({until:Int64}, 'UTC'))
                AND ({detector:String} = '' OR detector = {detector:String})
                AND ({entity:String} = '' OR entity = {entity:String})
                AND (empty({severities:Array(String)}) OR severity IN {severities:Array(String)})
                AND score >= {min_score:Float64}
                AND ({has_after:UInt8} = 0
                  OR (event_time, finding_id) < (fromUnixTimestamp64Milli({after_time:Int64}, 'UTC'), {after_id:String}))
            )
            ORDER BY event_time DESC, finding_id DESC LIMIT {limit:UInt32}`,
    {
      tenant: opts.tenant ?? '',
      limit: opts.limit ?? 1000,
      has_since: opts.since === undefined ? 0 : 1,
      since: opts.since ?? 0,
      has_until: opts.until === undefined ? 0 : 1,
      until: opts.until ?? 0,
      detector: opts.detector ?? '',
      entity: opts.entity ?? '',
      severities: opts.severities ?? [],
      min_score: opts.minScore ?? 0,
      has_after: opts.after ? 1 : 0,
      after_time: opts.after?.eventTime ?? 0,
      after_id: opts.after?.findingId ?? '',
      ...tenantScopeParams(opts),
    },
  );
  return rows.map(findingFromRow);
}

export async function listIncidents(
  client: StoreClient,
  opts: ListOptions & { status?: string } = {},
): Promise<Incident[]> {
  const rows = await client.query<Record<string, unknown>>(
    `SELECT * EXCEPT (opened_time, last_event_time, updated_time), ${ms('opened_time')},
              ${ms('last_event_time')}, ${ms('updated_time')}
            FROM incidents FINAL
            WHERE ({tenant:String} = '' OR tenant = {tenant:String}) AND ${tenantScopeWhere()}
              AND ({status:String} = '' OR status = {status:String})
            ORDER BY opened_time DESC LIMIT {limit:UInt32}`,
    {
      tenant: opts.tenant ?? '',
      status: opts.status ?? '',
      limit: opts.limit ?? 1000,
      ...tenantScopeParams(opts),
    },
  );
  return rows.map(incidentFromRow);
}

export interface StoreSummary {
  events: number;
  distinct_events: number;
  actors: number;
  findings: number;
  incidents: number;
  actions: number;
  dead_letters: number;
}

/**
 * Counts of one tenant ('' = every tenant) within `scope`. Dead letters carry no tenant: they are
 * counted for an unscoped reader only (0 for a tenant-bound one).
 */
export async function summary(
  client: StoreClient,
  tenant = '',
  scope: TenantScope = {},
): Promise<StoreSummary> {
  const where = `({t:String} = '' OR tenant = {t:String}) AND ${tenantScopeWhere()}`;
  const [row] = await client.query<Record<keyof StoreSummary, string | number>>(
    `SELECT
      (SELECT count() FROM events WHERE ${where}) AS events,
      (SELECT uniqExact(event_id) FROM events WHERE ${where}) AS distinct_events,
      (SELECT uniqExact(actor) FROM events WHERE ${where}) AS actors,
      (SELECT count() FROM findings FINAL WHERE ${where}) AS findings,
      (SELECT count() FROM incidents FINAL WHERE ${where}) AS incidents,
      (SELECT count() FROM actions WHERE ${where}) AS actions,
      (SELECT count() FROM dead_letters WHERE {all_tenants:UInt8} = 1) AS dead_letters`,
    { t: tenant, ...tenantScopeParams(scope) },
  );
  const out = {} as StoreSummary;
  for (const [k, v] of Object.entries(row ?? {})) out[k as keyof StoreSummary] = Number(v);
  return out;
}

export async function jobSucceeded(client: StoreClient, jobId: string): Promise<boolean> {
  return (await jobsSucceeded(client, [jobId])).has(jobId);
}

/** The jobs among `jobIds` with a succeeded attempt, in one query. */
export async function jobsSucceeded(client: StoreClient, jobIds: readonly string[]): Promise<Set<string>> {
  if (jobIds.length === 0) return new Set();
  const rows = await client.query<{ job_id: string }>(
    `SELECT DISTINCT job_id FROM actions WHERE job_id IN {jobs:Array(String)} AND outcome = 'succeeded'`,
    { jobs: jobIds },
  );
  return new Set(rows.map((r) => r.job_id));
}

/**
 * `jobSucceeded` for many callers at once: a question asked while a lookup is running waits for
 * it and goes with the others in the next one. Every action job asks before it runs; one query
 * each queued for seconds under load (the embedded engine runs parameterized queries one at a
 * time), before any containment could start.
 */
export function createJobSuccessLookup(client: StoreClient): (jobId: string) => Promise<boolean> {
  let waiting: Array<{ id: string; resolve: (v: boolean) => void; reject: (err: unknown) => void }> = [];
  let running = false;
  async function drain(): Promise<void> {
    running = true;
    while (waiting.length > 0) {
      const asked = waiting;
      waiting = [];
      try {
        const found = await jobsSucceeded(client, [...new Set(asked.map((w) => w.id))]);
        for (const w of asked) w.resolve(found.has(w.id));
      } catch (err) {
        for (const w of asked) w.reject(err);
      }
    }
    running = false;
  }
  return (jobId) =>
    new Promise<boolean>((resolve, reject) => {
      waiting.push({ id: jobId, resolve, reject });
      if (!running) void drain();
    });
}
