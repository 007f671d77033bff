// Analysts' feedback on findings.
import type { Feedback, FeedbackLabel } from '../detect/index.js';
import { insertRows, type StoreClient } from './client.js';
import { type TenantScope, tenantScopeParams, tenantScopeWhere } from './queries.js';

/** Undefined when there is no such finding, or not one of `req.tenants` (the caller's scope). */
export async function recordFeedback(
  client: StoreClient,
  req: { findingId: string; label: FeedbackLabel; caller: string } & TenantScope,
): Promise<Feedback | undefined> {
  const rs = await client.query({
    query: `SELECT finding_id, tenant, detector, entity, observed FROM findings FINAL
            WHERE finding_id = {id:String} AND ${tenantScopeWhere()} LIMIT 1`,
    query_params: { id: req.findingId, ...tenantScopeParams(req) },
    format: 'JSONEachRow',
  });
  const [f] = await rs.json<{
    finding_id: string;
    tenant: string;
    detector: string;
    entity: string;
    observed: number;
  }>();
  if (!f) return undefined;
  const entry: Feedback = { ...f, observed: Number(f.observed), label: req.label, time: Date.now() };
  await insertRows(client, 'finding_feedback', [{ ...f, label: req.label, caller: req.caller }]);
  return entry;
}

export async function loadFeedback(client: StoreClient, sinceMs: number): Promise<Feedback[]> {
  const rs = await client.query({
    query: `SELECT finding_id, tenant, detector, entity, label, observed, toUnixTimestamp64Milli(time) AS time
            FROM finding_feedback WHERE time >= fromUnixTimestamp64Milli({since:Int64}) ORDER BY time`,
    query_params: { since: sinceMs },
    format: 'JSONEachRow',
  });
  return (await rs.json<Feedback>()).map((f) => ({
    ...f,
    observed: Number(f.observed),
    time: Number(f.time),
  }));
}
