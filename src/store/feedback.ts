// Analysts' feedback on findings.
import type { Feedback, FeedbackLabel } from '../detect/index.js';
import type { StoreClient } from './client.js';
import { type TenantScope, tenantScopeParams, tenantScopeWhere } from './queries.js';

/** Undefined when there is no such finding, or not one of `req.tenants` (the caller's scope). */
export async function recordFeedback(
  client: StoreClient,
  req: { findingId: string; label: FeedbackLabel; caller: string } & TenantScope,
): Promise<Feedback | undefined> {
  const [f] = await client.query<{
    finding_id: string;
    tenant: string;
    detector: string;
    entity: string;
    observed: number;
  }>(
    `SELECT finding_id, tenant, detector, entity, observed FROM findings FINAL
            WHERE finding_id = {id:String} AND ${tenantScopeWhere()} LIMIT 1`,
    { id: req.findingId, ...tenantScopeParams(req) },
  );
  if (!f) return undefined;
  const entry: Feedback = { ...f, observed: Number(f.observed), label: req.label, time: Date.now() };
  await client.insert('finding_feedback', [{ ...f, label: req.label, caller: req.caller }]);
  return entry;
}

export async function loadFeedback(client: StoreClient, sinceMs: number): Promise<Feedback[]> {
  const rows = await client.query<Feedback>(
    `SELECT finding_id, tenant, detector, entity, label, observed, toUnixTimestamp64Milli(time) AS time
            FROM finding_feedback WHERE time >= fromUnixTimestamp64Milli({since:Int64}) ORDER BY time`,
    { since: sinceMs },
  );
  return rows.map((f) => ({
    ...f,
    observed: Number(f.observed),
    time: Number(f.time),
  }));
}
