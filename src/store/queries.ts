// Read queries used by the CLI, the admin API and the responder. Parameterised SQL only.
import type { Finding, Incident } from '../model/index.js';
import type { StoreClient } from './client.js';

export interface ListOptions {
  readonly tenant?: string;
  readonly limit?: number;
}

const ms = (col: string) => `toUnixTimestamp64Milli(${col}) AS ${col}`;

export async function listFindings(client: StoreClient, opts: ListOptions = {}): Promise<Finding[]> {
  const rs = await client.query({
    query: `SELECT * EXCEPT (event_time, detected_time, first_observed_time, stored_time),
              ${ms('event_time')}, ${ms('detected_time')}, ${ms('first_observed_time')}
            FROM findings FINAL
            WHERE ({tenant:String} = '' OR tenant = {tenant:String})
            ORDER BY event_time DESC LIMIT {limit:UInt32}`,
    query_params: { tenant: opts.tenant ?? '', limit: opts.limit ?? 1000 },
    format: 'JSONEachRow',
  });
  return (await rs.json<Finding>()).map((f) => ({
    ...f,
    event_time: Number(f.event_time),
    detected_time: Number(f.detected_time),
    first_observed_time: Number(f.first_observed_time),
  }));
}

export async function listIncidents(
  client: StoreClient,
  opts: ListOptions & { status?: string } = {},
): Promise<Incident[]> {
  const rs = await client.query({
    query: `SELECT * EXCEPT (opened_time, updated_time), ${ms('opened_time')}, ${ms('updated_time')}
            FROM incidents FINAL
            WHERE ({tenant:String} = '' OR tenant = {tenant:String})
              AND ({status:String} = '' OR status = {status:String})
            ORDER BY opened_time DESC LIMIT {limit:UInt32}`,
    query_params: { tenant: opts.tenant ?? '', status: opts.status ?? '', limit: opts.limit ?? 1000 },
    format: 'JSONEachRow',
  });
  return (await rs.json<Incident>()).map((i) => ({
    ...i,
    opened_time: Number(i.opened_time),
    updated_time: Number(i.updated_time),
  }));
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

export async function summary(client: StoreClient, tenant = ''): Promise<StoreSummary> {
  const rs = await client.query({
    query: `SELECT
      (SELECT count() FROM events WHERE {t:String} = '' OR tenant = {t:String}) AS events,
      (SELECT uniqExact(event_id) FROM events WHERE {t:String} = '' OR tenant = {t:String}) AS distinct_events,
      (SELECT uniqExact(actor) FROM events WHERE {t:String} = '' OR tenant = {t:String}) AS actors,
      (SELECT count() FROM findings FINAL WHERE {t:String} = '' OR tenant = {t:String}) AS findings,
      (SELECT count() FROM incidents FINAL WHERE {t:String} = '' OR tenant = {t:String}) AS incidents,
      (SELECT count() FROM actions WHERE {t:String} = '' OR tenant = {t:String}) AS actions,
      (SELECT count() FROM dead_letters) AS dead_letters`,
    query_params: { t: tenant },
    format: 'JSONEachRow',
  });
  const [row] = await rs.json<Record<keyof StoreSummary, string | number>>();
  const out = {} as StoreSummary;
  for (const [k, v] of Object.entries(row ?? {})) out[k as keyof StoreSummary] = Number(v);
  return out;
}

export async function jobSucceeded(client: StoreClient, jobId: string): Promise<boolean> {
  const rs = await client.query({
    query: `SELECT count() AS n FROM actions WHERE job_id = {job:String} AND outcome = 'succeeded'`,
    query_params: { job: jobId },
    format: 'JSONEachRow',
  });
  const [row] = await rs.json<{ n: string | number }>();
  return Number(row?.n ?? 0) > 0;
}
