// Reading stored events back (backtests, bootstrap): in event-time order, in pages.
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

/**
 * Requests per detection window of the given identities, from the per-minute rollup: what a
 * detector needs to start an identity warm. Rows are before each identity's own `before`.
 */
export async function windowCounts(
  client: StoreClient,
  opts: {
    tenant: string;
    identities: Array<{ actor: string; before: number }>;
    windowMs: number;
    lookbackMs: number;
  },
): Promise<Map<string, Array<{ start: number; requests: number }>>> {
  const out = new Map<string, Array<{ start: number; requests: number }>>();
  if (opts.identities.length === 0) return out;
  const before = new Map(opts.identities.map((i) => [i.actor, i.before]));
  const latest = Math.max(...before.values());
  const rs = await client.query({
    query: `SELECT actor, toUnixTimestamp(toStartOfInterval(minute, toIntervalSecond({win:UInt32}))) * 1000 AS start, sum(requests) AS requests
            FROM events_1m
            WHERE tenant = {tenant:String} AND actor IN {actors:Array(String)}
              AND minute >= toDateTime({since:UInt32}, 'UTC') AND minute < toDateTime({until:UInt32}, 'UTC')
            GROUP BY actor, start ORDER BY actor, start`,
    query_params: {
      win: Math.round(opts.windowMs / 1000),
      tenant: opts.tenant,
      actors: [...before.keys()],
      since: Math.floor((latest - opts.lookbackMs) / 1000),
      until: Math.floor(latest / 1000),
    },
    format: 'JSONEachRow',
  });
  for (const r of await rs.json<{ actor: string; start: string | number; requests: string | number }>()) {
    const start = Number(r.start);
    if (start >= (before.get(r.actor) ?? 0)) continue;
    const rows = out.get(r.actor) ?? [];
    if (rows.length === 0) out.set(r.actor, rows);
    rows.push({ start, requests: Number(r.requests) });
  }
  return out;
}
