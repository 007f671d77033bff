// Reading stored events back (backtests, bootstrap): in event-time order, in pages.
import type { HourlyUse, IdentityHistory } from '../detect/index.js';
import type { AccessEvent } from '../model/index.js';
import type { StoreClient } from './client.js';

/** Stored events between `since` and `until` (epoch ms), oldest first, `pageSize` at a time. */
export async function* readEvents(
  client: StoreClient,
  opts: { since: number; until: number; tenant?: string; pageSize?: number },
): AsyncGenerator<AccessEvent[]> {
  const pageSize = opts.pageSize ?? 50_000;
  let cursor = { time: opts.since, id: '' };
  for (;;) {
    const rs = await client.query({
      query: `SELECT * EXCEPT (time, observed_time, stored_time),
                toUnixTimestamp64Milli(time) AS time, toUnixTimestamp64Milli(observed_time) AS observed_time
              FROM events FINAL
              WHERE time >= fromUnixTimestamp64Milli({since:Int64}) AND time < fromUnixTimestamp64Milli({until:Int64})
                AND ({tenant:String} = '' OR tenant = {tenant:String})
                AND (time, event_id) > (fromUnixTimestamp64Milli({ct:Int64}), {cid:String})
              ORDER BY time, event_id
              LIMIT {limit:UInt32}`,
      query_params: {
        since: opts.since,
        until: opts.until,
        tenant: opts.tenant ?? '',
        ct: cursor.time,
        cid: cursor.id,
        limit: pageSize,
      },
      format: 'JSONEachRow',
    });
    const rows = (await rs.json<AccessEvent>()).map((e) => ({
      ...e,
      time: Number(e.time),
      observed_time: Number(e.observed_time),
    }));
    if (rows.length === 0) return;
    yield rows;
    const last = rows[rows.length - 1]!;
    cursor = { time: last.time, id: last.event_id };
    if (rows.length < pageSize) return;
  }
}

/** Hourly rows kept per identity at most (the most recent): a week of a busy identity's hours. */
export const HOURLY_ROWS_PER_IDENTITY = 2_000;

/**
 * What a detector needs to start an identity warm, from the per-minute rollup, in one query for a
 * batch of identities: requests per detection window (volume-spike), and use per hour, collection
 * and operation (the others; the most recent `maxHourlyRows` per identity). Rows are before each
 * identity's own `before`, oldest first.
 */
export async function identityHistory(
  client: StoreClient,
  opts: {
    tenant: string;
    identities: Array<{ actor: string; before: number }>;
    windowMs: number;
    lookbackMs: number;
    maxHourlyRows?: number;
  },
): Promise<Map<string, IdentityHistory>> {
  const out = new Map<string, { windowMs: number; rows: WindowRow[]; hourly: HourlyUse[] }>();
  if (opts.identities.length === 0) return out;
  const before = new Map(opts.identities.map((i) => [i.actor, i.before]));
  const latest = Math.max(...before.values());
  const where = `tenant = {tenant:String} AND actor IN {actors:Array(String)}
              AND minute >= toDateTime({since:UInt32}, 'UTC') AND minute < toDateTime({until:UInt32}, 'UTC')`;
  // Both aggregates in one statement (one round trip); `kind` tells them apart. Hourly rows are
  // limited per identity, newest first, so one very busy identity cannot make the answer unbounded.
  const rs = await client.query({
    query: `SELECT actor, 'w' AS kind, start, '' AS collection, '' AS operation, requests,
                   toUInt64(0) AS returned, toUInt64(0) AS vectors_returned, toUInt64(0) AS bytes_out, toUInt64(0) AS denied, toUInt64(0) AS errors
            FROM (SELECT actor, toUnixTimestamp(toStartOfInterval(minute, toIntervalSecond({win:UInt32}))) * 1000 AS start,
                         sum(requests) AS requests
                  FROM events_1m WHERE ${where} GROUP BY actor, start)
            UNION ALL
            SELECT actor, 'h' AS kind, start, collection, operation, requests, returned, vectors_returned, bytes_out, denied, errors
            FROM (SELECT actor, toUnixTimestamp(toStartOfHour(minute)) * 1000 AS start,
                         toString(collection) AS collection, toString(operation) AS operation,
                         sum(requests) AS requests, sum(returned) AS returned, sum(vectors_returned) AS vectors_returned,
                         sum(bytes_out) AS bytes_out,
                         sum(denied) AS denied, sum(errors) AS errors
                  FROM events_1m WHERE ${where}
                  GROUP BY actor, start, collection, operation
                  ORDER BY actor, start DESC, collection, operation
                  LIMIT {per:UInt32} BY actor)`,
    query_params: {
      win: Math.round(opts.windowMs / 1000),
      tenant: opts.tenant,
      actors: [...before.keys()],
      since: Math.floor((latest - opts.lookbackMs) / 1000),
      until: Math.floor(latest / 1000),
      per: opts.maxHourlyRows ?? HOURLY_ROWS_PER_IDENTITY,
    },
    format: 'JSONEachRow',
  });
  type Num = string | number;
  const rows = await rs.json<{
    actor: string;
    kind: 'w' | 'h';
    start: Num;
    collection: string;
    operation: string;
    requests: Num;
    returned: Num;
    vectors_returned: Num;
    bytes_out: Num;
    denied: Num;
    errors: Num;
  }>();
  for (const r of rows) {
    const start = Number(r.start);
    if (start >= (before.get(r.actor) ?? 0)) continue;
    let h = out.get(r.actor);
    if (!h) {
      h = { windowMs: opts.windowMs, rows: [], hourly: [] };
      out.set(r.actor, h);
    }
    if (r.kind === 'w') h.rows.push({ start, requests: Number(r.requests) });
    else
      h.hourly.push({
        hour: start,
        collection: r.collection,
        operation: r.operation,
        requests: Number(r.requests),
        returned: Number(r.returned),
        vectorsReturned: Number(r.vectors_returned),
        bytesOut: Number(r.bytes_out),
        denied: Number(r.denied),
        errors: Number(r.errors),
      });
  }
  for (const h of out.values()) {
    h.rows.sort((a, b) => a.start - b.start);
    h.hourly.sort(
      (a, b) => a.hour - b.hour || (a.collection < b.collection ? -1 : a.collection > b.collection ? 1 : 0),
    );
  }
  return out;
}

interface WindowRow {
  start: number;
  requests: number;
}
