// Every Grafana panel (dashboards/*.json) over 30 days of a large organisation on the embedded
// engine: 10 million events (10,000 identities, heavy-tailed activity) and the findings, incidents
// and responder actions that go with them, generated inside the engine with INSERT … SELECT from
// numbers() (the materialized view fills the per-minute rollup as it would live). Each panel's SQL
// is rendered the way Grafana and the ClickHouse plugin render it (test/helpers/grafana-macros.ts)
// and run three times; p95 over every run.
// Raw companion: the engine scanning one column of the 30-day window of events (the floor of any
// panel that reads raw events).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { packageRoot } from '../../src/config/index.js';
import { migrate, openStore, type StoreClient } from '../../src/store/index.js';
import { type GrafanaQueryContext, renderGrafanaSql } from '../../test/helpers/grafana-macros.js';
import { median, quantile, round } from '../lib/measure.js';
import { type StageOptions, stageMain } from '../lib/stage.js';
import { BENCH_TENANT } from '../lib/workload.js';

export interface PanelsStageOptions extends StageOptions {
  readonly events: number;
  readonly identities: number;
  readonly runs: number;
}

export interface PanelsStageResult {
  readonly events: number;
  readonly panels: number;
  readonly panel_query_p50_ms: number;
  readonly panel_query_p95_ms: number;
  readonly panel_query_max_ms: number;
  readonly slowest_panel: string;
  readonly raw_scan_ms: number;
  readonly generate_seconds: number;
  readonly generate_rows_per_s: number;
  readonly per_panel_ms: Record<string, number>;
}

const DAY = 86_400_000;
const CHUNK = 1_000_000;

interface Dashboard {
  uid: string;
  panels: Array<{ title: string; targets: Array<{ refId: string; rawSql: string }> }>;
}

const insertSettings = () => ({ insert_deduplication_token: randomUUID() });

/** Events of the window [from, to): row i at from + i·span/n, actor log-uniform over identities. */
async function generate(
  c: StoreClient,
  n: number,
  identities: number,
  from: number,
  to: number,
): Promise<void> {
  for (let offset = 0; offset < n; offset += CHUNK) {
    const rows = Math.min(CHUNK, n - offset);
    await c.command(
      `
        INSERT INTO events (event_id, time, observed_time, tenant, source, actor, actor_type, credential, session,
          src_ip, src_net, client, system, operation, operation_raw, collection, namespace, top_k, returned,
          vectors_returned, bytes_out, outcome, status_code, error_type, masked, review, blocked, latency_ms,
          query_hash, trace_id, span_id, attributes)
        SELECT
          hex(cityHash64(i, 'e')) AS event_id,
          fromUnixTimestamp64Milli(toInt64({from:Int64} + intDiv(i * ({to:Int64} - {from:Int64}), {n:Int64}))) AS t,
          t + toIntervalMillisecond(20 + i % 200) AS observed_time,
          {tenant:String} AS tenant,
          ['generic', 'otel', 'hoop', 'teleport'][1 + i % 4] AS source,
          concat('usr_k1_', toString(a)) AS actor,
          if(a % 10 = 0, 'service', 'user') AS actor_type,
          concat('key_k1_', toString(a), if(i % 5 = 0, 'b', 'a')) AS credential,
          concat('ses_k1_', toString(a), '_', toString(intDiv(i, 40000))) AS session,
          concat('ip_k1_', toString(a)) AS src_ip,
          concat('net_k1_', toString(intDiv(a, 64))) AS src_net,
          'rag-api/5.1' AS client,
          ['qdrant', 'weaviate', 'milvus', 'pinecone'][1 + a % 4] AS system,
          ['search', 'search', 'search', 'search', 'search', 'search', 'fetch', 'scroll', 'upsert'][1 + i % 9] AS operation,
          operation AS operation_raw,
          concat('kb_team', toString((a + i % 3) % 32)) AS collection,
          'prod' AS namespace,
          if(operation = 'search', 10, 0) AS top_k,
          multiIf(operation = 'scroll', 100, operation = 'upsert', 0, 10) AS returned,
          0 AS vectors_returned,
          returned * 2048 AS bytes_out,
          multiIf(i % 200 = 0, 'denied', i % 333 = 0, 'error', 'allowed') AS outcome,
          multiIf(outcome = 'denied', 403, outcome = 'error', 500, 200) AS status_code,
          if(outcome = 'error', 'timeout', '') AS error_type,
          false AS masked, false AS review, false AS blocked,
          toFloat32(3 + i % 40) AS latency_ms,
          '' AS query_hash, '' AS trace_id, '' AS span_id,
          map('team', concat('team', toString(a % 15))) AS attributes
        FROM (
          SELECT number + {offset:UInt64} AS i,
            toUInt32(floor(exp(log({identities:Float64}) * ((cityHash64(number + {offset:UInt64}) % 1000000) / 1000000.0)))) - 1 AS a
          FROM numbers({rows:UInt64})
        )`,
      { from, to, n, offset, rows, identities, tenant: BENCH_TENANT },
      insertSettings(),
    );
  }
  const findings = Math.max(1_000, Math.round(n / 500));
  await c.command(
    `
      INSERT INTO findings (finding_id, tenant, detector, entity_type, entity, actor, severity, score, confidence,
        event_time, detected_time, first_observed_time, title, sentence, observed, expected, band_low, band_high,
        baseline_period, features, evidence, collection, attack_techniques)
      SELECT hex(cityHash64(number, 'f')), {tenant:String},
        ['volume-spike', 'new-collection', 'bulk-extraction', 'auth-failures', 'off-hours'][1 + number % 5],
        'actor', actor, actor, ['low', 'medium', 'high', 'critical'][1 + number % 4],
        0.5 + (number % 50) / 100, 1,
        fromUnixTimestamp64Milli(toInt64({from:Int64} + intDiv(number * ({to:Int64} - {from:Int64}), {k:Int64}))) AS et,
        et + toIntervalMillisecond(400), et + toIntervalMillisecond(100),
        'Request volume spike', concat(actor, ' made many requests'), 500, 30, 0, 90, '24 h',
        map('requests', 500.0), ['e1', 'e2'], concat('kb_team', toString(number % 32)), ['T1530']
      FROM (SELECT number, concat('usr_k1_', toString(number % 200)) AS actor FROM numbers({k:UInt64}))`,
    { from, to, k: findings, tenant: BENCH_TENANT },
    insertSettings(),
  );
  const incidents = Math.round(findings / 10);
  await c.command(
    `
      INSERT INTO incidents (incident_id, tenant, actor, status, severity, risk, title, summary, finding_ids,
        opened_time, updated_time, updated_by)
      SELECT hex(cityHash64(number, 'i')), {tenant:String}, concat('usr_k1_', toString(number % 200)),
        ['open', 'resolved', 'contained'][1 + number % 3], 'high', 70, 'Exfiltration', 'summary', ['f1'],
        fromUnixTimestamp64Milli(toInt64({from:Int64} + intDiv(number * ({to:Int64} - {from:Int64}), {k:Int64}))) AS ot,
        ot + toIntervalMinute(30), 'responder'
      FROM numbers({k:UInt64})`,
    { from, to, k: incidents, tenant: BENCH_TENANT },
    insertSettings(),
  );
  await c.command(
    `
      INSERT INTO actions (action_id, job_id, incident_id, tenant, kind, target, mode, attempt, outcome,
        latency_ms, error, time)
      SELECT hex(cityHash64(number, 'a')), hex(cityHash64(intDiv(number, 2), 'j')),
        hex(cityHash64(intDiv(number, 2), 'i')), {tenant:String}, 'webhook', 'hooks.example.test', 'enforce',
        1 + number % 2, if(number % 2 = 0, 'retrying', 'succeeded'), 120, '',
        fromUnixTimestamp64Milli(toInt64({from:Int64} + intDiv(number * ({to:Int64} - {from:Int64}), {k:Int64})))
      FROM numbers({k:UInt64})`,
    { from, to, k: incidents * 2, tenant: BENCH_TENANT },
    insertSettings(),
  );
}

async function timed(c: StoreClient, sql: string): Promise<number> {
  const t0 = performance.now();
  const { body } = await c.exec(sql, { format: 'JSON' });
  JSON.parse(body.toString('utf8'));
  return performance.now() - t0;
}

stageMain<PanelsStageOptions, PanelsStageResult>(async (opts) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-panels-'));
  const store = await openStore({ CLICKHOUSE_DATABASE: 'vigil' } as Parameters<typeof openStore>[0], dataDir);
  try {
    await migrate(store.client, { eventsTtlDays: 180 });
    const c = store.client;
    const to = Date.now();
    const from = to - 30 * DAY;
    const g0 = performance.now();
    await generate(c, opts.events, opts.identities, from, to);
    const generateSeconds = (performance.now() - g0) / 1000;

    const dir = path.join(packageRoot(), 'dashboards');
    const dashboards = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Dashboard);
    const ctx: GrafanaQueryContext = {
      from,
      to,
      // What Grafana picks for 30 days on a ~1,000-pixel panel.
      intervalMs: 3_600_000,
      // The busiest identity and collection: the worst case for the per-identity panels.
      variables: {
        tenant: BENCH_TENANT,
        identity: 'usr_k1_0',
        collection: 'kb_team0',
        datasource: 'vigil-clickhouse',
      },
    };
    const all: number[] = [];
    const perPanel: Record<string, number> = {};
    for (const d of dashboards) {
      for (const p of d.panels) {
        for (const t of p.targets) {
          const sql = renderGrafanaSql(t.rawSql, ctx);
          const runs: number[] = [];
          for (let r = 0; r < opts.runs; r++) runs.push(await timed(c, sql));
          all.push(...runs);
          perPanel[`${d.uid}/${p.title}/${t.refId}`] = round(median(runs), 1);
        }
      }
    }
    const rawRuns: number[] = [];
    for (let r = 0; r < opts.runs; r++)
      rawRuns.push(
        await timed(
          c,
          `SELECT sum(bytes_out) FROM events WHERE tenant = '${BENCH_TENANT}'
             AND time >= fromUnixTimestamp64Milli(${from}) AND time <= fromUnixTimestamp64Milli(${to})`,
        ),
      );
    const slowest = Object.entries(perPanel).sort((a, b) => b[1] - a[1])[0];
    return {
      events: opts.events,
      panels: Object.keys(perPanel).length,
      panel_query_p50_ms: round(quantile(all, 0.5), 1),
      panel_query_p95_ms: round(quantile(all, 0.95), 1),
      panel_query_max_ms: round(quantile(all, 1), 1),
      slowest_panel: slowest ? `${slowest[0]} (${slowest[1]} ms)` : '',
      raw_scan_ms: round(median(rawRuns), 1),
      generate_seconds: round(generateSeconds, 1),
      generate_rows_per_s: round(opts.events / generateSeconds),
      per_panel_ms: perPanel,
    };
  } finally {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
