// The Grafana dashboards against a store seeded through the real pipeline: a generated workload
// (with its exfiltration burst) posted to the collector, so events, rollups, findings, incidents
// and responder actions all exist. Every panel's SQL is rendered the way Grafana + the ClickHouse
// plugin render it and run; each must return rows (or be listed below as legitimately empty) with
// the column types its panel type needs.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateWorkload } from '../../src/cli/demo/workload.js';
import { createOcsfFileSink, startExportSink } from '../../src/export/index.js';
import {
  CLICKHOUSE_PLUGIN as PLUGIN,
  CLICKHOUSE_PLUGIN_VERSION,
  EDITOR_TYPES,
  QUERY_TYPE_FORMAT,
  type QueryType,
  V3_QUERY_TYPES,
  VARIABLE_QUERY_KEYS,
  VARIABLE_QUERY_TYPES,
} from '../helpers/clickhouse-plugin.js';
import { type GrafanaQueryContext, renderGrafanaSql } from '../helpers/grafana-macros.js';
import { tempDataDir } from '../helpers/services.js';
import { seededQueryContext, seedWorkload } from '../helpers/seed.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';

const DASHBOARDS = path.resolve(import.meta.dirname, '../../dashboards');
/** `${name}`: a Grafana variable reference (built so no linter mistakes it for a template slot). */
const grafanaVar = (name: string) => `$${'{'}${name}}`;

interface Target {
  refId: string;
  rawSql: string;
  format: number;
  queryType: string;
  editorType: string;
  pluginVersion?: string;
  datasource: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource: { type: string; uid: string };
  targets: Target[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: {
    list: Array<{ name: string; type: string; definition?: string; query: string | Record<string, unknown> }>;
  };
}

const dashboards = readdirSync(DASHBOARDS)
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ file: f, d: JSON.parse(readFileSync(path.join(DASHBOARDS, f), 'utf8')) as Dashboard }));

/** Panels that may return no rows on a healthy run, and why. */
const MAY_BE_EMPTY: Record<string, string> = {
  'vigil-pipeline-health/Rejects by reason': 'dead_letters only holds poison rows; a clean workload has none',
  'vigil-pipeline-health/Dead letters': 'same: nothing was dead-lettered',
  // Filled by OTLP traffic (the seeded workload is generic events): otlp-source-stats.test.ts runs them on it.
  'vigil-pipeline-health/Source mapping (received, mapped, rejected by reason)': 'no OTLP traffic here',
  'vigil-pipeline-health/Attribute keys vigil did not use': 'no OTLP traffic here',
  // The year-ahead pass of the suite (scripts/test.sh) moves vigil's clock 400 days, not the
  // engine's: this panel subtracts vigil's observed_time from the engine's stored_time, over a time
  // range on vigil's clock, so its rows fall outside the range. Its columns are still checked.
  ...(process.env.VIGIL_TEST_CLOCK_AHEAD_DAYS
    ? { 'vigil-pipeline-health/End-to-end lag': 'the engine keeps the real clock in the year-ahead pass' }
    : {}),
};
/** Panels that read raw `events` because the rollup lacks their columns (src_net, source, stored_time). */
const RAW_EVENTS_PANELS = new Set([
  'vigil-identity/Source networks',
  'vigil-pipeline-health/Ingest rate per source',
  'vigil-pipeline-health/End-to-end lag',
]);
/** Panels over tables that have no tenant column. */
const TENANTLESS = new Set([
  'vigil-pipeline-health/Rejects by reason',
  'vigil-pipeline-health/Dead letters',
  'vigil-pipeline-health/SIEM export checkpoints',
  'vigil-pipeline-health/Source mapping (received, mapped, rejected by reason)',
  'vigil-pipeline-health/Attribute keys vigil did not use',
]);

const isTime = (t: string) => /^(Nullable\()?DateTime/.test(t);
const isNumber = (t: string) => /^(Nullable\()?(U?Int\d+|Float\d+|Decimal)/.test(t);
const isText = (t: string) => /^(Nullable\()?(LowCardinality\()?(String|FixedString|Enum)/.test(t);

interface Result {
  meta: Array<{ name: string; type: string }>;
  data: Array<Record<string, unknown>>;
}

describe('Grafana dashboards', () => {
  let v: TestVigil;
  let ctx: GrafanaQueryContext;
  const tenant = 'dash';

  beforeAll(async () => {
    v = await startTestVigil();
    const w = generateWorkload({ tenant, days: 3, people: 5, services: 2, seed: 5 });
    await seedWorkload(v, tenant, w.events);
    // One SIEM sink run, so the export checkpoint panel has something to show.
    const sink = await startExportSink({
      client: v.app.store.client,
      sink: createOcsfFileSink({ path: path.join(tempDataDir(), 'ocsf.ndjson'), name: 'dashboards-test' }),
      kinds: ['finding', 'incident'],
      intervalMs: 60_000,
      settleMs: 0,
    });
    await sink.runOnce();
    await sink.stop();
    ctx = seededQueryContext(v, tenant, w.attacker);
  }, 120_000);
  afterAll(async () => v?.stop());

  async function run(sql: string): Promise<Result> {
    const { body } = await v.app.store.client.exec(renderGrafanaSql(sql, ctx), { format: 'JSON' });
    return JSON.parse(body.toString('utf8')) as Result;
  }

  it('finds the four dashboards and their provisioning', () => {
    expect(dashboards.map((x) => x.d.uid).sort()).toEqual([
      'vigil-collection',
      'vigil-identity',
      'vigil-pipeline-health',
      'vigil-soc-overview',
    ]);
    const provisioning = readFileSync(path.join(DASHBOARDS, 'provisioning/datasources/vigil.yaml'), 'utf8');
    expect(provisioning).toContain(`type: ${PLUGIN}`);
    expect(readFileSync(path.join(DASHBOARDS, 'provisioning/dashboards/vigil.yaml'), 'utf8')).toContain(
      'type: file',
    );
  });

  describe.each(dashboards)('$file', ({ d }) => {
    it('uses the ClickHouse plugin through the datasource variable, macros and dashboard variables', () => {
      expect(d.templating.list.find((t) => t.name === 'datasource')).toMatchObject({
        type: 'datasource',
        query: PLUGIN,
      });
      for (const p of d.panels) {
        const key = `${d.uid}/${p.title}`;
        expect(p.datasource, key).toEqual({ type: PLUGIN, uid: grafanaVar('datasource') });
        for (const t of p.targets) {
          expect(t.datasource, key).toEqual({ type: PLUGIN, uid: grafanaVar('datasource') });
          expect(t.rawSql, key).toMatch(/\$__(timeFilter|fromTime|toTime|timeInterval)/);
          if (!TENANTLESS.has(key)) expect(t.rawSql, key).toContain(`'${grafanaVar('tenant')}'`);
          if (/\bFROM events\b/.test(t.rawSql))
            expect(RAW_EVENTS_PANELS.has(key), `${key} should read events_1m`).toBe(true);
          // The plugin's own values (test/helpers/clickhouse-plugin.ts): a v4 SQL target, so the
          // editor opens it as saved instead of migrating it as a v3 query.
          const queryType: QueryType =
            p.type === 'timeseries' || p.type === 'heatmap' ? 'timeseries' : 'table';
          expect(
            {
              editorType: t.editorType,
              pluginVersion: t.pluginVersion,
              queryType: t.queryType,
              format: t.format,
            },
            key,
          ).toEqual({
            editorType: EDITOR_TYPES[0],
            pluginVersion: CLICKHOUSE_PLUGIN_VERSION,
            queryType,
            format: QUERY_TYPE_FORMAT[queryType],
          });
          expect(V3_QUERY_TYPES as readonly string[], key).not.toContain(t.queryType);
        }
      }
    });

    it('stores variable queries in the shape of the guided variable editor (v4.19+)', () => {
      const queries = d.templating.list.filter((x) => x.type === 'query');
      expect(queries.length).toBeGreaterThan(0);
      for (const t of queries) {
        expect(typeof t.query, t.name).toBe('object');
        const q = t.query as Record<string, unknown>;
        for (const k of Object.keys(q))
          expect(VARIABLE_QUERY_KEYS as readonly string[], `${t.name}.${k}`).toContain(k);
        expect(VARIABLE_QUERY_TYPES as readonly string[], t.name).toContain(q.queryType);
        // Custom SQL: the one type whose rawSql the editor keeps as written.
        expect(q.queryType, t.name).toBe(VARIABLE_QUERY_TYPES[0]);
        expect(typeof q.rawSql, t.name).toBe('string');
        expect(t.definition, t.name).toBe(q.rawSql);
      }
    });

    it('has variable queries that return values', async () => {
      for (const t of d.templating.list.filter((x) => x.type === 'query')) {
        const sql = typeof t.query === 'string' ? t.query : String(t.query.rawSql);
        const r = await run(sql);
        expect(r.data.length, t.name).toBeGreaterThan(0);
        expect(r.data.map((row) => Object.values(row)[0])).toContain(ctx.variables[t.name]);
      }
    });

    it.each(d.panels.map((p) => [p.title, p] as const))(
      'panel "%s" returns what its visualization needs',
      async (_title, p) => {
        const key = `${d.uid}/${p.title}`;
        for (const t of p.targets) {
          const r = await run(t.rawSql);
          const types = r.meta.map((m) => m.type);
          if (r.data.length === 0) {
            expect(MAY_BE_EMPTY[key], `${key} ${t.refId} returned no rows`).toBeDefined();
          }
          switch (p.type) {
            case 'timeseries':
            case 'heatmap': {
              expect(r.meta[0], key).toMatchObject({ name: 'time' });
              expect(isTime(types[0]!), `${key}: time column is ${types[0]}`).toBe(true);
              const rest = types.slice(1);
              expect(rest.some(isNumber), `${key}: no numeric column in ${rest}`).toBe(true);
              // Long format (one label column) is pivoted by the plugin; more would be ambiguous.
              expect(rest.filter(isText).length, key).toBeLessThanOrEqual(1);
              expect(
                rest.every((x) => isNumber(x) || isText(x)),
                `${key}: ${rest}`,
              ).toBe(true);
              const times = r.data.map((row) => String(row.time));
              expect(times, `${key}: ordered by time`).toEqual([...times].sort());
              break;
            }
            case 'stat':
              expect(r.data, key).toHaveLength(1);
              expect(types.every(isNumber), `${key}: ${types}`).toBe(true);
              break;
            case 'barchart':
            case 'piechart':
              expect(isText(types[0]!), `${key}: category column is ${types[0]}`).toBe(true);
              expect(types.length, key).toBeGreaterThan(1);
              expect(types.slice(1).every(isNumber), `${key}: ${types}`).toBe(true);
              break;
            case 'table':
              expect(types.length, key).toBeGreaterThan(0);
              break;
            default:
              throw new Error(`${key}: panel type ${p.type} is not checked by this test`);
          }
        }
      },
    );
  });

  it('shows the attacker as the top identity by risk, with its incident and the responder action', async () => {
    const soc = dashboards.find((x) => x.d.uid === 'vigil-soc-overview')!.d;
    const top = await run(soc.panels.find((p) => p.title === 'Top identities by risk')!.targets[0]!.rawSql);
    expect(top.data[0]).toMatchObject({ identity: ctx.variables.identity });
    expect(Number(top.data[0]!.incidents)).toBeGreaterThan(0);
    const identity = dashboards.find((x) => x.d.uid === 'vigil-identity')!.d;
    const actions = await run(
      identity.panels.find((p) => p.title === 'Responder actions')!.targets[0]!.rawSql,
    );
    expect(actions.data.map((a) => a.outcome)).toContain('succeeded');
  });
});
