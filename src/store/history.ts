// Reading stored events back (backtests, bootstrap): in event-time order, in pages.
import {
  type CredentialHour,
  credentialHistorySince,
  HOURLY_BYTES,
  HOURLY_RETURNED,
  HOURLY_VECTORS,
  type HistoryNeeds,
  type HourlyEvents,
  type HourlyUse,
  type IdentityHistory,
  type NetworkUse,
} from '../detect/index.js';
import type { AccessEvent } from '../model/index.js';
import type { StoreClient } from './client.js';
import { type TenantScope, tenantScopeParams, tenantScopeWhere } from './queries.js';

/** Stored events between `since` and `until` (epoch ms), oldest first, `pageSize` at a time. */
export async function* readEvents(
  client: StoreClient,
  opts: { since: number; until: number; tenant?: string; pageSize?: number } & TenantScope,
): AsyncGenerator<AccessEvent[]> {
  const pageSize = opts.pageSize ?? 50_000;
  let cursor = { time: opts.since, id: '' };
  for (;;) {
    // The epoch-ms columns are named apart from `time`: an alias `time` would be what WHERE and
    // ORDER BY read (epoch ms against a DateTime64), and no event would ever match.
    const stored = await client.query<
      Omit<AccessEvent, 'time' | 'observed_time'> & { time_ms: string; observed_ms: string }
    >(
      `SELECT * EXCEPT (time, observed_time, stored_time),
                toUnixTimestamp64Milli(time) AS time_ms, toUnixTimestamp64Milli(observed_time) AS observed_ms
              FROM events FINAL
              WHERE time >= fromUnixTimestamp64Milli({since:Int64}) AND time < fromUnixTimestamp64Milli({until:Int64})
                AND ({tenant:String} = '' OR tenant = {tenant:String}) AND ${tenantScopeWhere()}
                AND (time, event_id) > (fromUnixTimestamp64Milli({ct:Int64}), {cid:String})
              ORDER BY time, event_id
              LIMIT {limit:UInt32}`,
      {
        since: opts.since,
        until: opts.until,
        tenant: opts.tenant ?? '',
        ct: cursor.time,
        cid: cursor.id,
        limit: pageSize,
        ...tenantScopeParams(opts),
      },
    );
    const rows = stored.map(
      ({ time_ms, observed_ms, ...e }): AccessEvent => ({
        ...e,
        time: Number(time_ms),
        observed_time: Number(observed_ms),
      }),
    );
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
 * What a detector needs to start an identity warm, in one query (one round trip) for a batch of
 * identities. From the per-minute rollup: requests per detection window (volume-spike), and use per
 * hour, collection and operation (the most recent `maxHourlyRows` per identity). From the events
 * (the rollup keeps neither): per hour the largest top_k and the busiest window's authentication
 * failures, and the source networks used, each with its first and last time (the most recent
 * `maxNetworks`, else the detectors' `needs.networksPerIdentity`), and for each credential the
 * identity used lately (the most recent `needs.credentialsPerIdentity`) the distinct identities and
 * networks of all its users per hour, from `credentialHistorySince(before, needs)` on (the most
 * recent `needs.hoursPerCredential` hours). Rows are before each identity's own `before`, oldest
 * first. `needs` is what the registered detectors read (detectors/index.ts `HISTORY_NEEDS`).
 */
export async function identityHistory(
  client: StoreClient,
  opts: {
    tenant: string;
    identities: Array<{ actor: string; before: number }>;
    windowMs: number;
    lookbackMs: number;
    needs: HistoryNeeds;
    maxHourlyRows?: number;
    maxNetworks?: number;
  },
): Promise<Map<string, IdentityHistory>> {
  type Building = {
    windowMs: number;
    rows: WindowRow[];
    hourly: HourlyUse[];
    events: HourlyEvents[];
    networks: NetworkUse[];
    credentials: CredentialHour[];
  };
  const out = new Map<string, Building>();
  if (opts.identities.length === 0) return out;
  const before = new Map(opts.identities.map((i) => [i.actor, i.before]));
  const latest = Math.max(...before.values());
  const where = `tenant = {tenant:String} AND actor IN {actors:Array(String)}
              AND minute >= toDateTime({since:UInt32}, 'UTC') AND minute < toDateTime({until:UInt32}, 'UTC')`;
  // The events are cut at each identity's own `before`, not at the batch's latest: a network first
  // used in this very batch (already stored) must still be new to the detector. The constant
  // bounds let the sort key (tenant, actor, time) make this a range read per identity. No FINAL:
  // a redelivered duplicate does not change a maximum, a first or a last time; until parts merge
  // it may count twice among the failures, as it does in the rollup's sums.
  // Pending requests (held for review, never run) are not access: no baseline counts them.
  const eventsWhere = `tenant = {tenant:String} AND actor IN {actors:Array(String)} AND outcome != 'pending'
              AND time >= fromUnixTimestamp64Milli({sinceMs:Int64}) AND time < fromUnixTimestamp64Milli({untilMs:Int64})
              AND time < fromUnixTimestamp64Milli(transform(actor, {actors:Array(String)}, {befores:Array(Int64)}, toInt64(0)))`;
  // A credential's hours: from each identity's own credentialHistorySince(before), cut at its own
  // `before`. Its other users are not in the identities' sort-key ranges: the tenant's events of
  // those credentials are read over the few days of the constant bounds (whole day partitions).
  const credSinces = [...before.values()].map((b) => credentialHistorySince(b, opts.needs));
  const credWhere = `tenant = {tenant:String} AND outcome != 'pending'
              AND time >= fromUnixTimestamp64Milli({credSinceMs:Int64}) AND time < fromUnixTimestamp64Milli({untilMs:Int64})`;
  const ownCredentials = `SELECT credential FROM events
              WHERE ${credWhere} AND actor IN {actors:Array(String)} AND credential != ''`;
  const zeros = `toUInt64(0) AS returned, toUInt64(0) AS vectors_returned, toUInt64(0) AS bytes_out,
                 toUInt64(0) AS denied, toUInt64(0) AS errors`;
  const noEvents = `toUInt64(0) AS top_k, toUInt64(0) AS failures, '' AS network, toInt64(0) AS last_seen`;
  // `kind` tells the four aggregates apart. Hourly rows and networks are limited per identity,
  // newest first, so one very busy identity cannot make the answer unbounded. An authentication
  // failure is counted as auth-failures' isAuthFailure counts it: denied, or an error of `auth`
  // or with status 401 / 403 (not a 5xx outage).
  type Num = string | number;
  const rows = await client.queryArrays<
    [
      actor: string,
      kind: 'w' | 'h' | 'e' | 'n' | 'c',
      start: Num,
      collection: string,
      operation: string,
      requests: Num,
      returned: Num,
      vectorsReturned: Num,
      bytesOut: Num,
      denied: Num,
      errors: Num,
      topK: Num,
      failures: Num,
      network: string,
      lastSeen: Num,
    ]
  >(
    // Compact rows (arrays, in the SELECT's column order): with up to a few thousand rows per
    // identity and 2,000 identities a batch, repeating 15 column names per row would dominate the
    // answer's size.
    `SELECT actor, 'w' AS kind, toInt64(start) AS start, '' AS collection, '' AS operation, requests, ${zeros}, ${noEvents}
            FROM (SELECT actor, toUnixTimestamp(toStartOfInterval(minute, toIntervalSecond({win:UInt32}))) * 1000 AS start,
                         sum(requests) AS requests
                  FROM events_1m WHERE ${where} GROUP BY actor, start)
            UNION ALL
            SELECT actor, 'h' AS kind, toInt64(start) AS start, collection, operation, requests, returned, vectors_returned, bytes_out,
                   denied, errors, toUInt64(0) AS top_k, toUInt64(0) AS failures, '' AS network, toInt64(reported) AS last_seen
            FROM (SELECT actor, toUnixTimestamp(toStartOfHour(minute)) * 1000 AS start,
                         toString(collection) AS collection, toString(operation) AS operation,
                         sum(requests) AS requests, sum(returned) AS returned, sum(vectors_returned) AS vectors_returned,
                         sum(bytes_out) AS bytes_out,
                         sum(denied) AS denied, sum(errors) AS errors,
                         (sum(returned_reported) > 0) * ${HOURLY_RETURNED} + (sum(vectors_reported) > 0) * ${HOURLY_VECTORS}
                           + (sum(bytes_reported) > 0) * ${HOURLY_BYTES} AS reported
                  FROM events_1m WHERE ${where}
                  GROUP BY actor, start, collection, operation
                  ORDER BY actor, start DESC, collection, operation
                  LIMIT {per:UInt32} BY actor)
            UNION ALL
            SELECT actor, 'e' AS kind, toInt64(start) AS start, '' AS collection, '' AS operation, toUInt64(0) AS requests, ${zeros},
                   toUInt64(top_k) AS top_k, toUInt64(failures) AS failures, '' AS network, toInt64(0) AS last_seen
            FROM (SELECT actor, intDiv(w * {winMs:Int64}, 3600000) * 3600000 AS start,
                         max(top_k) AS top_k, max(failures) AS failures
                  FROM (SELECT actor, intDiv(toUnixTimestamp64Milli(time), {winMs:Int64}) AS w,
                               maxIf(top_k, outcome = 'allowed') AS top_k,
                               countIf(outcome = 'denied' OR (outcome = 'error'
                                 AND (operation = 'auth' OR status_code IN (401, 403)))) AS failures
                        FROM events WHERE ${eventsWhere}
                        GROUP BY actor, w)
                  GROUP BY actor, start
                  ORDER BY actor, start DESC
                  LIMIT {per:UInt32} BY actor)
            UNION ALL
            SELECT actor, 'n' AS kind, toInt64(first_seen) AS start, '' AS collection, '' AS operation, toUInt64(0) AS requests, ${zeros},
                   toUInt64(0) AS top_k, toUInt64(0) AS failures, network, toInt64(last_seen) AS last_seen
            FROM (SELECT actor, toString(src_net) AS network,
                         toUnixTimestamp64Milli(min(time)) AS first_seen, toUnixTimestamp64Milli(max(time)) AS last_seen
                  FROM events WHERE ${eventsWhere} AND src_net != ''
                  GROUP BY actor, network
                  ORDER BY actor, last_seen DESC, network
                  LIMIT {nets:UInt32} BY actor)
            UNION ALL
            SELECT identity AS actor, 'c' AS kind, toInt64(start) AS start, '' AS collection, '' AS operation,
                   toUInt64(0) AS requests, ${zeros}, toUInt64(users) AS top_k, toUInt64(nets) AS failures,
                   toString(cred) AS network, toInt64(0) AS last_seen
            FROM (SELECT p.identity AS identity, p.cred AS cred,
                         intDiv(toUnixTimestamp64Milli(c.time), 3600000) * 3600000 AS start,
                         uniqExact(c.user) AS users, uniqExactIf(c.net, c.net != '') AS nets
                  FROM (SELECT credential AS cred, actor AS user, toString(src_net) AS net, time
                        FROM events WHERE ${credWhere} AND credential IN (${ownCredentials})) AS c
                  INNER JOIN (SELECT actor AS identity, credential AS cred
                              FROM events
                              WHERE ${eventsWhere} AND ${credWhere} AND credential != ''
                                AND time >= fromUnixTimestamp64Milli(transform(actor, {actors:Array(String)}, {credSinces:Array(Int64)}, toInt64(0)))
                              GROUP BY identity, cred
                              ORDER BY identity, max(time) DESC, cred
                              LIMIT {creds:UInt32} BY identity) AS p
                  ON c.cred = p.cred
                  WHERE c.time >= fromUnixTimestamp64Milli(transform(p.identity, {actors:Array(String)}, {credSinces:Array(Int64)}, toInt64(0)))
                    AND c.time < fromUnixTimestamp64Milli(transform(p.identity, {actors:Array(String)}, {befores:Array(Int64)}, toInt64(0)))
                  GROUP BY identity, cred, start
                  ORDER BY identity, cred, start DESC
                  LIMIT {credHours:UInt32} BY identity, cred)`,
    {
      win: Math.round(opts.windowMs / 1000),
      winMs: Math.round(opts.windowMs),
      tenant: opts.tenant,
      actors: [...before.keys()],
      befores: [...before.values()],
      since: Math.floor((latest - opts.lookbackMs) / 1000),
      sinceMs: Math.floor(latest - opts.lookbackMs),
      until: Math.floor(latest / 1000),
      untilMs: latest,
      per: opts.maxHourlyRows ?? HOURLY_ROWS_PER_IDENTITY,
      nets: opts.maxNetworks ?? opts.needs.networksPerIdentity,
      credSinces,
      credSinceMs: Math.min(...credSinces),
      creds: opts.needs.credentialsPerIdentity,
      credHours: opts.needs.hoursPerCredential,
    },
  );
  for (const r of rows) {
    const [
      actor,
      kind,
      at,
      collection,
      operation,
      requests,
      returned,
      vectorsReturned,
      bytesOut,
      denied,
      errors,
      topK,
      failures,
      network,
      lastSeen,
    ] = r;
    const start = Number(at);
    if (start >= (before.get(actor) ?? 0)) continue;
    let h = out.get(actor);
    if (!h) {
      h = { windowMs: opts.windowMs, rows: [], hourly: [], events: [], networks: [], credentials: [] };
      out.set(actor, h);
    }
    if (kind === 'w') h.rows.push({ start, requests: Number(requests) });
    else if (kind === 'e')
      h.events.push({ hour: start, maxTopK: Number(topK), failurePeak: Number(failures) });
    else if (kind === 'n') h.networks.push({ network, firstSeen: start, lastSeen: Number(lastSeen) });
    // A credential's row: its token in `network`, its identities and networks in `top_k` and `failures`.
    else if (kind === 'c')
      h.credentials.push({
        credential: network,
        hour: start,
        actors: Number(topK),
        networks: Number(failures),
      });
    else
      h.hourly.push({
        hour: start,
        collection,
        operation,
        requests: Number(requests),
        returned: Number(returned),
        vectorsReturned: Number(vectorsReturned),
        bytesOut: Number(bytesOut),
        denied: Number(denied),
        errors: Number(errors),
        // An hourly row carries which figures were reported in `last_seen` (no last-seen of its own).
        reported: Number(lastSeen),
      });
  }
  for (const h of out.values()) {
    h.rows.sort((a, b) => a.start - b.start);
    h.hourly.sort(
      (a, b) => a.hour - b.hour || (a.collection < b.collection ? -1 : a.collection > b.collection ? 1 : 0),
    );
    h.events.sort((a, b) => a.hour - b.hour);
    h.networks.sort(
      (a, b) => a.lastSeen - b.lastSeen || (a.network < b.network ? -1 : a.network > b.network ? 1 : 0),
    );
    h.credentials.sort(
      (a, b) => a.hour - b.hour || (a.credential < b.credential ? -1 : a.credential > b.credential ? 1 : 0),
    );
  }
  return out;
}

interface WindowRow {
  start: number;
  requests: number;
}
