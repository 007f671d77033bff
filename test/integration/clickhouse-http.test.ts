// The read-only ClickHouse HTTP interface on the admin port (/clickhouse), against a store seeded
// through the real pipeline. Two real clients read it: @clickhouse/client (the JS client) and
// clickhouse-go v2 over HTTP (the driver of Grafana's ClickHouse plugin, built from
// test/go-client), each running every dashboard query; both must see what the store sees.
// Writes, multiple statements, outside-world table functions and unknown settings are refused
// with 403 and a ClickHouse-style error, and nothing sticks to the engine's session.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { type ClickHouseClient, createClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLICKHOUSE_HTTP_PREFIX } from '../../src/admin/clickhouse-http.js';
import { generateWorkload } from '../../src/cli/demo/workload.js';
import { type GrafanaQueryContext, renderGrafanaSql } from '../helpers/grafana-macros.js';
import { tempDataDir } from '../helpers/services.js';
import { seededQueryContext, seedWorkload } from '../helpers/seed.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';
import { waitFor } from '../helpers/wait.js';

const run = promisify(execFile);
const DASHBOARDS = path.resolve(import.meta.dirname, '../../dashboards');
const GO_CLIENT = path.resolve(import.meta.dirname, '../go-client');

interface Dashboard {
  uid: string;
  panels: Array<{ title: string; targets: Array<{ refId: string; rawSql: string }> }>;
  templating: { list: Array<{ name: string; type: string; query: string | { rawSql: string } }> };
}

/** Every panel and variable query of every dashboard, by name. */
function dashboardQueries(): Array<{ name: string; sql: string }> {
  const out: Array<{ name: string; sql: string }> = [];
  for (const f of readdirSync(DASHBOARDS).filter((x) => x.endsWith('.json'))) {
    const d = JSON.parse(readFileSync(path.join(DASHBOARDS, f), 'utf8')) as Dashboard;
    for (const v of d.templating.list.filter((x) => x.type === 'query'))
      out.push({ name: `${d.uid}/$${v.name}`, sql: typeof v.query === 'string' ? v.query : v.query.rawSql });
    for (const p of d.panels)
      for (const t of p.targets) out.push({ name: `${d.uid}/${p.title}/${t.refId}`, sql: t.rawSql });
  }
  return out;
}

describe('ClickHouse HTTP interface (admin port, /clickhouse)', () => {
  let v: TestVigil;
  let ctx: GrafanaQueryContext;
  let ch: ClickHouseClient;
  let url: string;
  const tenant = 'chhttp';
  const analystToken = `analyst-${randomBytes(12).toString('hex')}`;
  const queries = () => dashboardQueries().map((q) => ({ name: q.name, sql: renderGrafanaSql(q.sql, ctx) }));

  /** A raw request with the analyst token as basic-auth password. */
  const request = (
    pathAndQuery: string,
    init: RequestInit & { token?: string | null } = {},
  ): Promise<Response> => {
    const headers = new Headers(init.headers);
    if (init.token !== null)
      headers.set(
        'authorization',
        `Basic ${Buffer.from(`grafana:${init.token ?? analystToken}`).toString('base64')}`,
      );
    return fetch(`${url}${pathAndQuery}`, { ...init, headers });
  };
  const post = (sql: string, params = '', token?: string | null) =>
    request(`${CLICKHOUSE_HTTP_PREFIX}/?${params}`, { method: 'POST', body: sql, token });

  beforeAll(async () => {
    v = await startTestVigil({ env: { VIGIL_ANALYST_TOKEN: analystToken } });
    url = v.app.adminUrl;
    const w = generateWorkload({ tenant, days: 3, people: 5, services: 2, seed: 5 });
    await seedWorkload(v, tenant, w.events);
    ctx = seededQueryContext(v, tenant, w.attacker);
    ch = createClient({ url, pathname: CLICKHOUSE_HTTP_PREFIX, username: 'grafana', password: analystToken });
  }, 120_000);
  afterAll(async () => {
    await ch?.close();
    await v?.stop();
  });

  describe('with @clickhouse/client', () => {
    it('pings', async () => {
      expect(await ch.ping()).toEqual({ success: true });
      const r = await request(`${CLICKHOUSE_HTTP_PREFIX}/ping`, { token: null });
      expect([r.status, await r.text()]).toEqual([200, 'Ok.\n']);
    });

    it('returns for every dashboard query exactly what the store returns', async () => {
      for (const q of queries()) {
        const direct = await (await v.app.store.client.query({ query: q.sql, format: 'JSONEachRow' })).json();
        const viaHttp = await (await ch.query({ query: q.sql, format: 'JSONEachRow' })).json();
        // Rows of a GROUP BY without ORDER BY may come in any order: compare as multisets.
        const sorted = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).sort();
        expect(sorted(viaHttp), q.name).toEqual(sorted(direct));
      }
    });

    it('binds query parameters ({name:Type} with param_<name>)', async () => {
      const rs = await ch.query({
        query:
          'SELECT count() AS n FROM events WHERE tenant = {tenant:String} AND operation IN {ops:Array(String)}',
        query_params: { tenant, ops: ['search', 'fetch'] },
        format: 'JSONEachRow',
      });
      const [row] = await rs.json<{ n: string }>();
      const direct = await v.app.store.client.query({
        query: `SELECT count() AS n FROM events WHERE tenant = '${tenant}' AND operation IN ('search', 'fetch')`,
        format: 'JSONEachRow',
      });
      expect(row).toEqual((await direct.json())[0]);
      expect(Number(row!.n)).toBeGreaterThan(0);
    });

    it('reads system tables and SHOW / DESCRIBE / EXISTS / EXPLAIN', async () => {
      const tables = await (await ch.query({ query: 'SHOW TABLES', format: 'JSONEachRow' })).json<{
        name: string;
      }>();
      expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['events', 'findings', 'events_1m']));
      const cols = await (await ch.query({ query: 'DESCRIBE TABLE findings', format: 'JSONEachRow' })).json<{
        name: string;
      }>();
      expect(cols.map((c) => c.name)).toContain('detected_time');
      const exists = await (
        await ch.query({ query: 'EXISTS TABLE incidents', format: 'JSONEachRow' })
      ).json();
      expect(exists).toEqual([{ result: 1 }]);
      const plan = await ch.query({ query: 'EXPLAIN SELECT count() FROM events', format: 'TabSeparated' });
      expect(await plan.text()).toMatch(/ReadFrom|Expression|Aggregating/);
      const dbs = await (
        await ch.query({ query: 'SELECT name FROM system.databases', format: 'JSONEachRow' })
      ).json<{ name: string }>();
      expect(dbs.map((d) => d.name)).toContain(v.app.store.database);
    });
  });

  describe('formats', () => {
    const sql = `SELECT operation, count() AS n FROM events WHERE tenant = '${tenant}' GROUP BY operation ORDER BY operation`;
    let expected: Array<{ operation: string; n: string }>;
    beforeAll(async () => {
      expected = await (await v.app.store.client.query({ query: sql, format: 'JSONEachRow' })).json();
      expect(expected.length).toBeGreaterThan(1);
    });

    it.each([
      ['JSON', (t: string) => (JSON.parse(t) as { data: unknown[] }).data.length],
      ['JSONEachRow', (t: string) => t.trim().split('\n').length],
      ['JSONCompact', (t: string) => (JSON.parse(t) as { data: unknown[] }).data.length],
      ['TabSeparated', (t: string) => t.trim().split('\n').length],
      ['TabSeparatedWithNamesAndTypes', (t: string) => t.trim().split('\n').length - 2],
      ['CSV', (t: string) => t.trim().split('\n').length],
    ])('%s from default_format and from a FORMAT clause', async (format, rows) => {
      const byParam = await post(sql, `default_format=${format}`);
      expect(byParam.status).toBe(200);
      expect(byParam.headers.get('x-clickhouse-format')).toBe(format);
      expect(rows(await byParam.text())).toBe(expected.length);
      const byClause = await post(`${sql}\nFORMAT ${format}`);
      expect(byClause.status).toBe(200);
      expect(rows(await byClause.text())).toBe(expected.length);
    });

    it('answers TabSeparated by default, to GET ?query= as well', async () => {
      const r = await request(`${CLICKHOUSE_HTTP_PREFIX}/?query=${encodeURIComponent(sql)}`);
      expect(r.status).toBe(200);
      expect((await r.text()).trim().split('\n')).toEqual(expected.map((e) => `${e.operation}\t${e.n}`));
    });

    it('compresses the answer with gzip when asked (enable_http_compression=1)', async () => {
      const r = await request(
        `${CLICKHOUSE_HTTP_PREFIX}/?enable_http_compression=1&default_format=JSONEachRow`,
        {
          method: 'POST',
          body: sql,
          headers: { 'accept-encoding': 'gzip' },
        },
      );
      expect(r.status).toBe(200);
      expect(r.headers.get('content-encoding')).toBe('gzip');
      // fetch decodes gzip itself; the text is the plain answer.
      expect((await r.text()).trim().split('\n')).toHaveLength(expected.length);
    });

    it('takes a gzip-compressed request body', async () => {
      const r = await request(`${CLICKHOUSE_HTTP_PREFIX}/?default_format=JSONEachRow`, {
        method: 'POST',
        body: gzipSync(sql),
        headers: { 'content-encoding': 'gzip' },
      });
      expect(r.status).toBe(200);
      expect((await r.text()).trim().split('\n')).toHaveLength(expected.length);
    });
  });

  describe('authentication', () => {
    it('needs a token as password: none 401, a wrong one 403, a collector token 403', async () => {
      expect((await post('SELECT 1', '', null)).status).toBe(401);
      const wrong = await post('SELECT 1', '', 'not-a-token');
      expect(wrong.status).toBe(403);
      expect(await wrong.text()).toMatch(/^Code: 516\. DB::Exception: .*\(AUTHENTICATION_FAILED\)/);
      expect((await post('SELECT 1', '', v.app.sourceToken)).status).toBe(403);
    });

    it('accepts the token as X-ClickHouse-Key, as basic auth, and the admin token too', async () => {
      const byHeader = await request(`${CLICKHOUSE_HTTP_PREFIX}/?query=SELECT%201`, {
        token: null,
        headers: { 'x-clickhouse-user': 'grafana', 'x-clickhouse-key': analystToken },
      });
      expect([byHeader.status, await byHeader.text()]).toEqual([200, '1\n']);
      expect((await post('SELECT 1', '', v.app.adminToken)).status).toBe(200);
    });
  });

  describe('read-only', () => {
    const refused: Array<[string, RegExp]> = [
      ["INSERT INTO events (tenant) VALUES ('x')", /Code: 164\..*\(READONLY\)/],
      ['ALTER TABLE events DELETE WHERE 1', /Code: 164\./],
      ['CREATE TABLE evil (x UInt8) ENGINE = Memory', /Code: 164\./],
      ['DROP TABLE events', /Code: 164\./],
      ['TRUNCATE TABLE events', /Code: 164\./],
      ['RENAME TABLE events TO gone', /Code: 164\./],
      ['SYSTEM FLUSH LOGS', /Code: 164\./],
      ['SET readonly = 0', /Code: 164\./],
      ['KILL QUERY WHERE 1', /Code: 164\./],
      ['OPTIMIZE TABLE events FINAL', /Code: 164\./],
      ['GRANT ALL ON *.* TO default', /Code: 164\./],
      ['/* a comment */ DELETE FROM events WHERE 1', /Code: 164\./],
      ['EXPLAIN AST DROP TABLE events', /Code: 164\./],
      ['SELECT 1; DROP TABLE events', /Multi-statements are not allowed/],
      ["SELECT * FROM file('/etc/passwd', 'LineAsString')", /Code: 497\..*file\(\)/],
      ["SELECT * FROM url('http://127.0.0.1:1/', 'CSV', 'x String')", /url\(\)/],
      ["SELECT * FROM URL('http://127.0.0.1:1/', 'CSV', 'x String')", /URL\(\)/],
      ["SELECT * FROM s3('http://127.0.0.1:1/b/k', 'CSV', 'x String')", /s3\(\)/],
      ["SELECT * FROM remote('127.0.0.1:1', system.one)", /remote\(\)/],
      ["SELECT * FROM executable('id', 'TSV', 'x String')", /executable\(\)/],
      ["SELECT * FROM `file`('/etc/passwd', 'LineAsString')", /file\(\)/],
      ["SELECT 1 INTO OUTFILE '/tmp/vigil-pwned.tsv'", /INTO OUTFILE/],
      ['SELECT 1 SETTINGS allow_ddl = 1', /Cannot modify 'allow_ddl' setting in readonly mode/],
      ['SELECT 1 SETTINGS readonly = 0', /Cannot modify 'readonly'/],
      ["SELECT 1 FORMAT Template SETTINGS format_template_resultset = '/etc/passwd'", /Code: 164|Code: 497/],
    ];
    it.each(refused)('refuses %s with 403 and a ClickHouse-style error', async (sql, message) => {
      const r = await post(sql);
      expect(r.status).toBe(403);
      expect(r.headers.get('x-clickhouse-exception-code')).toMatch(/^\d+$/);
      expect(await r.text()).toMatch(message);
    });

    it('refuses settings outside the allowlist in the URL, and the store keeps every table', async () => {
      const r = await post('SELECT 1', 'allow_ddl=1');
      expect(r.status).toBe(403);
      expect(await r.text()).toMatch(/Cannot modify 'allow_ddl' setting in readonly mode/);
      const tables = await (await ch.query({ query: 'SHOW TABLES', format: 'JSONEachRow' })).json<{
        name: string;
      }>();
      expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['events', 'findings', 'incidents']));
    });

    it('keeps allowed settings to the query: the engine session is unchanged afterwards and vigil still writes', async () => {
      const before = await (
        await v.app.store.client.query({
          query: "SELECT getSetting('max_threads') AS t",
          format: 'JSONEachRow',
        })
      ).json();
      const r = await post(
        "SELECT getSetting('max_threads') AS t, getSetting('readonly') AS ro",
        'max_threads=1&default_format=JSONEachRow',
      );
      expect(await r.json()).toEqual({ t: 1, ro: 1 });
      const after = await (
        await v.app.store.client.query({
          query: "SELECT getSetting('max_threads') AS t, getSetting('readonly') AS ro",
          format: 'JSONEachRow',
        })
      ).json<{ t: number; ro: number }>();
      expect(after).toEqual([{ ...(before[0] as object), ro: 0 }]);
      // The pipeline still writes (readonly did not stick to the shared session).
      const count = async () =>
        Number(
          (
            await (
              await v.app.store.client.query({
                query: `SELECT count() AS n FROM events WHERE tenant = 'chhttp-after'`,
                format: 'JSONEachRow',
              })
            ).json<{ n: string }>()
          )[0]!.n,
        );
      const w = generateWorkload({
        tenant: 'chhttp-after',
        days: 1,
        people: 1,
        services: 0,
        seed: 3,
        attack: false,
      });
      expect((await v.post(w.events.slice(0, 50))).status).toBe(200);
      await waitFor(count, (n) => n === 50, { what: 'events stored after the HTTP queries' });
    });

    it('reports engine errors the ClickHouse way (syntax 400, unknown table 404)', async () => {
      const syntax = await post('SELEC 1');
      expect(syntax.status).toBe(403); // not a read statement: refused before the engine sees it
      const bad = await post('SELECT FROM WHERE');
      expect(bad.status).toBe(400);
      expect(await bad.text()).toMatch(/^Code: 62\. DB::Exception: .*\(SYNTAX_ERROR\)/);
      const missing = await post('SELECT * FROM no_such_table');
      expect(missing.status).toBe(404);
      expect(missing.headers.get('x-clickhouse-exception-code')).toBe('60');
    });
  });

  describe('with clickhouse-go v2 over HTTP (the Grafana plugin driver)', () => {
    let binary: string;
    beforeAll(async () => {
      binary = path.join(tempDataDir(), 'go-client');
      // go build: ~35 s with a cold module/build cache (~/go), a second or two once warm.
      await run('go', ['build', '-o', binary, '.'], { cwd: GO_CLIENT, timeout: 170_000 });
    }, 180_000);

    it('connects the way the plugin does and runs every dashboard query, with the store row counts', async () => {
      const file = path.join(tempDataDir(), 'queries.json');
      // The dashboards' queries, then every type family the Native re-framing has to walk.
      const qs = [
        ...queries(),
        {
          name: 'types',
          sql: `SELECT number AS n, toString(number) AS s, toFixedString('ab', 2) AS fs,
              toLowCardinality(toString(number % 3)) AS lc, [toLowCardinality('x'), 'y'] AS alc,
              CAST([] AS Array(LowCardinality(String))) AS no_alc, toLowCardinality(toNullable('z')) AS lcn,
              map('k', number) AS m, (number, 'x') AS t, CAST((1, 'a') AS Tuple(a UInt8, b String)) AS nt,
              if(number % 2 = 0, NULL, number) AS nn, [[1, 2], [3]] AS aa, toDecimal64(number, 4) AS d,
              toDateTime64('2026-01-01 00:00:00.123', 3, 'UTC') AS dt64, toDateTime('2026-01-01 00:00:00', 'UTC') AS dt,
              toDate('2026-01-01') AS dd, generateUUIDv4() AS u, toIPv4(167772161) AS ip4, toIPv6('::1') AS ip6,
              true AS b, CAST('a' AS Enum8('a' = 1, 'b' = 2)) AS e, toFloat32(1.5) AS f32, toInt128(-5) AS i128
            FROM numbers(5)`,
        },
        { name: 'no rows', sql: 'SELECT number FROM numbers(3) WHERE number > 10' },
      ];
      writeFileSync(file, JSON.stringify(qs));
      const { host } = new URL(url);
      const { stdout } = await run(
        binary,
        ['-addr', host, '-path', CLICKHOUSE_HTTP_PREFIX, '-password', analystToken, '-queries', file],
        { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      );
      const out = JSON.parse(stdout) as {
        version: string;
        results: Array<{ name: string; rows: number; error?: string; columns?: string[] }>;
      };
      expect(out.version).toMatch(/^\d+\.\d+/);
      expect(out.results).toHaveLength(qs.length);
      for (const [i, q] of qs.entries()) {
        const r = out.results[i]!;
        expect(r.error, q.name).toBeUndefined();
        const direct = await (await v.app.store.client.query({ query: q.sql, format: 'JSONEachRow' })).json();
        expect(r.rows, q.name).toBe(direct.length);
      }
      expect(out.results.some((r) => r.rows > 0)).toBe(true);
    }, 90_000);
  });
});
