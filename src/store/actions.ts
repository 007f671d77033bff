// Responder reads: action attempts (all, the dead-letter view, approvals waiting), one incident or
// finding by id, and the audit record of a containment (what undo reverses). Parameterised SQL only.
import type { Action, Finding, Incident } from '../model/index.js';
import type { StoreClient } from './client.js';
import { type TenantScope, tenantScopeParams, tenantScopeWhere } from './queries.js';
import { findingFromRow, incidentFromRow } from './rows.js';

const ms = (col: string) => `toUnixTimestamp64Milli(${col}) AS ${col}`;

function toAction(row: Action): Action {
  return {
    ...row,
    attempt: Number(row.attempt),
    latency_ms: Number(row.latency_ms),
    time: Number(row.time),
  };
}

export interface ActionListOptions extends TenantScope {
  readonly tenant?: string;
  readonly incident?: string;
  readonly limit?: number;
}

/** Every attempt, newest first. */
export async function listActionAttempts(
  client: StoreClient,
  opts: ActionListOptions = {},
): Promise<Action[]> {
  const rows = await client.query<Action>(
    `SELECT * EXCEPT (time), ${ms('time')} FROM actions
            WHERE ({tenant:String} = '' OR tenant = {tenant:String}) AND ${tenantScopeWhere()}
              AND ({incident:String} = '' OR incident_id = {incident:String})
            ORDER BY time DESC, attempt DESC LIMIT {limit:UInt32}`,
    {
      tenant: opts.tenant ?? '',
      incident: opts.incident ?? '',
      limit: opts.limit ?? 1000,
      ...tenantScopeParams(opts),
    },
  );
  return rows.map(toAction);
}

/** The latest attempt of every job whose latest outcome is one of `outcomes`. */
async function latestPerJob(
  client: StoreClient,
  outcomes: string[],
  opts: ActionListOptions & { excludeApproved?: boolean },
): Promise<Action[]> {
  // Aliases differ from the column names: ClickHouse would otherwise resolve the column inside the
  // aggregate (or a filter) to the aggregate's own alias.
  const rows = await client.query<Action>(
    `SELECT job_id, a_action_id AS action_id, a_incident_id AS incident_id, a_tenant AS tenant,
                   a_kind AS kind, a_target AS target, a_mode AS mode, a_attempt AS attempt,
                   a_outcome AS outcome, a_latency_ms AS latency_ms, a_error AS error, a_time AS time
            FROM (
              SELECT job_id,
                     argMax(action_id, k) AS a_action_id,
                     argMax(incident_id, k) AS a_incident_id,
                     argMax(tenant, k) AS a_tenant,
                     argMax(kind, k) AS a_kind,
                     argMax(target, k) AS a_target,
                     argMax(mode, k) AS a_mode,
                     max(attempt) AS a_attempt,
                     argMax(outcome, k) AS a_outcome,
                     argMax(latency_ms, k) AS a_latency_ms,
                     argMax(error, k) AS a_error,
                     toUnixTimestamp64Milli(max(time)) AS a_time
              FROM (SELECT *, (time, attempt) AS k FROM actions
                    WHERE ({tenant:String} = '' OR tenant = {tenant:String}) AND ${tenantScopeWhere()}
                      AND ({incident:String} = '' OR incident_id = {incident:String}))
              GROUP BY job_id)
            WHERE a_outcome IN {outcomes:Array(String)}
              AND ({exclude:UInt8} = 0 OR concat(job_id, '-approved') NOT IN
                   (SELECT job_id FROM actions WHERE ({incident:String} = '' OR incident_id = {incident:String})))
            ORDER BY a_time DESC LIMIT {limit:UInt32}`,
    {
      tenant: opts.tenant ?? '',
      incident: opts.incident ?? '',
      outcomes,
      exclude: opts.excludeApproved ? 1 : 0,
      limit: opts.limit ?? 1000,
      ...tenantScopeParams(opts),
    },
  );
  return rows.map(toAction);
}

/** The dead-letter view: jobs that gave up (their latest attempt failed). */
export function listFailedActions(client: StoreClient, opts: ActionListOptions = {}): Promise<Action[]> {
  return latestPerJob(client, ['failed'], opts);
}

/** Jobs of an incident held for approval and not approved yet. */
export function listAwaitingApproval(client: StoreClient, incidentId: string): Promise<Action[]> {
  return latestPerJob(client, ['awaiting_approval'], { incident: incidentId, excludeApproved: true });
}

/** One attempt by its action id, or the latest attempt of a job id. */
export async function findAction(client: StoreClient, id: string): Promise<Action | undefined> {
  const [row] = await client.query<Action>(
    `SELECT * EXCEPT (time), ${ms('time')} FROM actions
            WHERE action_id = {id:String} OR job_id = {id:String}
            ORDER BY action_id = {id:String} DESC, time DESC, attempt DESC LIMIT 1`,
    { id },
  );
  return row ? toAction(row) : undefined;
}

export async function findIncident(client: StoreClient, incidentId: string): Promise<Incident | undefined> {
  const [row] = await client.query<Record<string, unknown>>(
    `SELECT * EXCEPT (opened_time, last_event_time, updated_time), ${ms('opened_time')},
              ${ms('last_event_time')}, ${ms('updated_time')}
            FROM incidents FINAL WHERE incident_id = {id:String} LIMIT 1`,
    { id: incidentId },
  );
  return row ? incidentFromRow(row) : undefined;
}

/** One finding by id, within the reader's scope (default: every tenant). */
export async function findFinding(
  client: StoreClient,
  findingId: string,
  scope: TenantScope = {},
): Promise<Finding | undefined> {
  const [row] = await client.query<Record<string, unknown>>(
    `SELECT * EXCEPT (event_time, first_fired_time, detected_time, first_observed_time, stored_time),
              ${ms('event_time')}, ${ms('first_fired_time')}, ${ms('detected_time')}, ${ms('first_observed_time')}
            FROM findings FINAL WHERE finding_id = {id:String} AND ${tenantScopeWhere()} LIMIT 1`,
    { id: findingId, ...tenantScopeParams(scope) },
  );
  return row ? findingFromRow(row) : undefined;
}

/** The `reason` of the latest audit record of `action` on `target` with outcome `outcome`. */
export async function findAuditReason(
  client: StoreClient,
  action: string,
  target: string,
  outcome: string,
): Promise<string | undefined> {
  const [row] = await client.query<{ reason: string }>(
    `SELECT reason FROM admin_audit
            WHERE action = {action:String} AND target = {target:String} AND outcome = {outcome:String}
            ORDER BY time DESC LIMIT 1`,
    { action, target, outcome },
  );
  return row?.reason;
}
