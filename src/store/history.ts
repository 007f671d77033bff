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
      query_params: { since: opts.since, until: opts.until, tenant: opts.tenant ?? '', ct: cursor.time, cid: cursor.id, limit: pageSize },
      format: 'JSONEachRow',
    });
    const rows = (await rs.json<AccessEvent>()).map((e) => ({ ...e, time: Number(e.time), observed_time: Number(e.observed_time) }));
    if (rows.length === 0) return;
    yield rows;
    const last = rows[rows.length - 1]!;
    cursor = { time: last.time, id: last.event_id };
    if (rows.length < pageSize) return;
  }
}
