// The read-only ClickHouse HTTP interface on the admin port (/clickhouse), against a store seeded
// through the real pipeline. Two real clients read it: @clickhouse/client (the JS client) and
// clickhouse-go v2 over HTTP (the driver of Grafana's ClickHouse plugin, built from
// test/go-client), each running every dashboard query; both must see what the store sees.
//
// Then what it must refuse: every reproduction of issue 13 (keys read through filesystem() and
// file(), INTO OUTFILE, url(), the vault, admin_audit and system tables), each through the real
// route and with its side effect checked (no file written, no request reaching a listener, no key
// in the answer), and a corpus generated from the engine itself — every Unicode space, format and
// control character at every token boundary of hostile seeds, comments and quoting around every
// token, SETTINGS at every nesting depth, every table function of system.table_functions and
// every function of system.functions — none of which gets past the gate unless its every
// function is on the allow-list. Every query is in admin_audit; a tenant-limited caller sees only
// its tenants' rows.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { type ClickHouseClient, createClient } from '@clickhouse/client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGGREGATE_FUNCTIONS, SCALAR_FUNCTIONS } from '../../src/admin/clickhouse-functions.js';
import { createReadOnlyGate, type ReadOnlyGate } from '../../src/admin/clickhouse-gate.js';
import {
  CLICKHOUSE_HTTP_PREFIX,
  registerClickHouseHttpRoutes,
  servesClickHouseHttp,
} from '../../src/admin/clickhouse-http.js';
import {
  createFunctionRegistry,
  type EngineFunction,
  functionAllowed,
  isRefusal,
} from '../../src/admin/clickhouse-sql.js';
import { generateWorkload } from '../../src/cli/demo/workload.js';
import { createSourceAuth } from '../../src/collectors/auth.js';
import { createHttpServer } from '../../src/collectors/http/server.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/telemetry/index.js';
import { type GrafanaQueryContext, renderGrafanaSql } from '../helpers/grafana-macros.js';
import { tempDataDir } from '../helpers/services.js';
import { seededQueryContext, seedWorkload } from '../helpers/seed.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';
import { waitFor } from '../helpers/wait.js';
import { testIso } from '../helpers/clock.js';

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

/** A loopback HTTP listener that counts the requests reaching it (what url() would send). */
async function countingListener(): Promise<{ server: Server; url: string; hits: () => number }> {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    res.end('reached\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    hits: () => hits,
  };
}

/** Every code point the engine might read as a separator: Unicode spaces, format and control characters, \s. */
function separatorCodePoints(): string[] {
  const out: string[] = [];
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const ch = String.fromCodePoint(cp);
    if (/[\p{Zs}\p{Cf}\p{Cc}\s]/u.test(ch)) out.push(ch);
  }
  return out;
}

describe('ClickHouse HTTP interface (admin port, /clickhouse)', () => {
  let v: TestVigil;
  let ctx: GrafanaQueryContext;
  let ch: ClickHouseClient;
  let url: string;
  let keysDir: string;
  let listener: Awaited<ReturnType<typeof countingListener>>;
  let outDir: string;
  /** Secrets under the data directory that no answer may contain. */
  let secrets: string[];
  const tenant = 'chhttp';
  const analystToken = `analyst-${randomBytes(12).toString('hex')}`;
  const queries = () => dashboardQueries().map((q) => ({ name: q.name, sql: renderGrafanaSql(q.sql, ctx) }));

  /** A raw request with the analyst token as basic-auth password. */
  const request = (
    pathAndQuery: string,
    init: RequestInit & { token?: string | null; base?: string } = {},
  ): Promise<Response> => {
    const headers = new Headers(init.headers);
    if (init.token !== null)
      headers.set(
        'authorization',
        `Basic ${Buffer.from(`grafana:${init.token ?? analystToken}`).toString('base64')}`,
      );
    return fetch(`${init.base ?? url}${pathAndQuery}`, { ...init, headers });
  };
  const post = (sql: string, params = '', token?: string | null) =>
    request(`${CLICKHOUSE_HTTP_PREFIX}/?${params}`, { method: 'POST', body: sql, token });
  const direct = <T = Record<string, unknown>>(query: string, params?: Record<string, unknown>) =>
    v.app.store.client.query<T>(query, params);

  beforeAll(async () => {
    v = await startTestVigil({ env: { VIGIL_ANALYST_TOKEN: analystToken, VIGIL_VAULT_ENABLED: 'true' } });
    url = v.app.adminUrl;
    const w = generateWorkload({ tenant, days: 3, people: 5, services: 2, seed: 5 });
    await seedWorkload(v, tenant, w.events);
    ctx = seededQueryContext(v, tenant, w.attacker);
    ch = createClient({ url, pathname: CLICKHOUSE_HTTP_PREFIX, username: 'grafana', password: analystToken });
    keysDir = path.join(v.dataDir, 'keys');
    secrets = readdirSync(keysDir)
      .map((f) => readFileSync(path.join(keysDir, f), 'utf8').trim())
      .filter((s) => s.length >= 16)
      .map((s) => s.slice(0, 32));
    secrets.push(v.app.adminToken, analystToken);
    listener = await countingListener();
    outDir = tempDataDir();
  }, 120_000);
  afterAll(async () => {
    await ch?.close();
    listener?.server.close();
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
        const expected = await direct(q.sql);
        const viaHttp = await (await ch.query({ query: q.sql, format: 'JSONEachRow' })).json();
        // Rows of a GROUP BY without ORDER BY may come in any order: compare as multisets.
        const sorted = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).sort();
        expect(sorted(viaHttp), q.name).toEqual(sorted(expected));
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
      const expected = await direct(
        `SELECT count() AS n FROM events WHERE tenant = '${tenant}' AND operation IN ('search', 'fetch')`,
      );
      expect(row).toEqual(expected[0]);
      expect(Number(row!.n)).toBeGreaterThan(0);
    });

    it('reads an {name:Identifier} parameter only where it names a readable table', async () => {
      const ok = await ch.query({
        query: 'SELECT count() AS n FROM {t:Identifier}',
        query_params: { t: 'findings' },
        format: 'JSONEachRow',
      });
      expect(Number((await ok.json<{ n: string }>())[0]!.n)).toBeGreaterThan(0);
      const r = await post('SELECT * FROM {t:Identifier}', 'param_t=vault');
      expect(r.status).toBe(403);
      expect(await r.text()).toMatch(/table vault is not readable/);
    });
  });

  describe('formats', () => {
    const sql = `SELECT operation, count() AS n FROM events WHERE tenant = '${tenant}' GROUP BY operation ORDER BY operation`;
    let expected: Array<{ operation: string; n: string }>;
    beforeAll(async () => {
      expected = await direct(sql);
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
      const byClause = await post(`${sql}\nFORMAT ${format.toLowerCase()}`);
      expect(byClause.status).toBe(200);
      expect(rows(await byClause.text())).toBe(expected.length);
    });

    it('answers TabSeparated by default, to GET ?query= as well', async () => {
      const r = await request(`${CLICKHOUSE_HTTP_PREFIX}/?query=${encodeURIComponent(sql)}`);
      expect(r.status).toBe(200);
      expect((await r.text()).trim().split('\n')).toEqual(expected.map((e) => `${e.operation}\t${e.n}`));
    });

    it('refuses formats outside the allow-list, by clause and by default_format', async () => {
      for (const [body, params] of [
        [`${sql} FORMAT Template`, ''],
        [`${sql} FORMAT CapnProto`, ''],
        [sql, 'default_format=Protobuf'],
        [sql, 'default_format=Parquet'],
      ] as const) {
        const r = await post(body, params);
        expect(r.status, `${body} ${params}`).toBe(403);
        expect(await r.text()).toMatch(/FORMAT is not allowed|default_format is not allowed/);
      }
    });

    it('compresses the answer with gzip when asked (enable_http_compression=1)', async () => {
      const r = await request(
        `${CLICKHOUSE_HTTP_PREFIX}/?enable_http_compression=1&default_format=JSONEachRow`,
        { method: 'POST', body: sql, headers: { 'accept-encoding': 'gzip' } },
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

  describe("issue 13's reproductions (analyst token as the basic-auth password)", () => {
    const noSecretIn = (text: string) => {
      for (const s of secrets) expect(text.includes(s), 'a secret in the answer').toBe(false);
    };

    it('refuses the keys directory through filesystem() in a subquery with SETTINGS readonly=2', async () => {
      expect(readdirSync(keysDir)).toEqual(expect.arrayContaining(['admin.token', 'vault.key', 'chain.key']));
      const r = await post(
        `SELECT path,name,content FROM (SELECT * FROM filesystem('${keysDir}') SETTINGS readonly=2) FORMAT TSV`,
      );
      const text = await r.text();
      expect(r.status).toBe(403);
      expect(text).toMatch(/\((ACCESS_DENIED|READONLY)\)/);
      noSecretIn(text);
    });

    it.each(['\u200b', '\u0085', '\u2060', '\u180e'])(
      'refuses file<U+%s>(…/vault.key): the engine reads the separator, the gate reads the engine',
      async (sep) => {
        const r = await post(`SELECT file${sep}('${keysDir}/vault.key')`);
        const text = await r.text();
        expect(r.status).toBe(403);
        expect(text).toMatch(/function file is not allowed/);
        noSecretIn(text);
      },
    );

    it('refuses INTO\u200bOUTFILE … TRUNCATE, and no file is written', async () => {
      const target = path.join(outDir, 'written-by-the-service');
      const r = await post(`SELECT 'x' INTO\u200bOUTFILE '${target}' TRUNCATE FORMAT TSV`);
      expect(r.status).toBe(403);
      expect(await r.text()).toMatch(/INTO OUTFILE is not allowed/);
      expect(existsSync(target)).toBe(false);
    });

    it('refuses url\u200b(…) in a subquery with SETTINGS readonly=2, and nothing reaches the listener', async () => {
      const r = await post(
        `SELECT * FROM (SELECT * FROM url\u200b('${listener.url}','LineAsString') SETTINGS readonly=2)`,
      );
      expect(r.status).toBe(403);
      expect(await r.text()).toMatch(/table functions are not allowed/);
      expect(listener.hits()).toBe(0);
    });

    it('refuses the vault (the sealed identifiers), and the refusal is in admin_audit', async () => {
      await waitFor(
        async () => Number((await direct<{ n: string }>('SELECT count() AS n FROM vault'))[0]!.n),
        (n) => n > 0,
        { what: 'vault rows to exist' },
      );
      const sql = 'SELECT token, sealed FROM vault';
      const r = await post(sql);
      expect(r.status).toBe(403);
      expect(await r.text()).toMatch(/table vault is not readable/);
      const rows = await direct<{ caller: string; outcome: string; reason: string }>(
        "SELECT caller, outcome, reason FROM admin_audit WHERE action = 'clickhouse.query' AND target = {t:String}",
        { t: `sha256:${createHash('sha256').update(sql).digest('hex')}` },
      );
      expect(rows).toEqual([
        { caller: expect.stringMatching(/^analyst:[0-9a-f]{12}$/), outcome: 'refused', reason: 'table' },
      ]);
    });

    it.each([
      'admin_audit',
      'vault',
      'detector_state',
      'audit_chain',
      'system.processes',
      'system.disks',
      'system.tables',
    ])('refuses %s, which /v1/audit refuses analysts too', async (table) => {
      const r = await post(`SELECT * FROM ${table} LIMIT 1`);
      expect(r.status).toBe(403);
      expect(await r.text()).toMatch(/Code: 497\..*\(ACCESS_DENIED\)/);
    });
  });

  describe('read-only', () => {
    const refused: Array<[string, number, RegExp]> = [
      ["INSERT INTO events (tenant) VALUES ('x')", 403, /Code: 164\..*\(READONLY\)/],
      ['ALTER TABLE events DELETE WHERE 1', 403, /Code: 164\./],
      ['CREATE TABLE evil (x UInt8) ENGINE = Memory', 403, /Code: 164\./],
      ['DROP TABLE events', 403, /Code: 164\./],
      ['TRUNCATE TABLE events', 403, /Code: 164\./],
      ['SYSTEM FLUSH LOGS', 403, /Code: 164\./],
      ['SET readonly = 0', 403, /Code: 164\./],
      ['KILL QUERY WHERE 1', 403, /Code: 164\./],
      ['OPTIMIZE TABLE events FINAL', 403, /Code: 164\./],
      ['GRANT ALL ON *.* TO default', 403, /Code: 164\./],
      ['SHOW TABLES', 403, /Code: 164\./],
      ['DESCRIBE TABLE findings', 403, /Code: 164\./],
      ['EXPLAIN SELECT 1', 403, /Code: 164\./],
      ['/* a comment */ DELETE FROM events WHERE 1', 403, /Code: 164\./],
      ['SELECT 1; DROP TABLE events', 400, /Multi-statements are not allowed/],
      ['SELECT * FROM events WHERE tenant IN vault', 403, /IN <table>/],
      ['SELECT 1 SETTINGS allow_ddl = 1', 403, /SETTINGS clauses are not allowed/],
      ['SELECT 1 FORMAT JSON SETTINGS readonly = 0', 403, /SETTINGS clauses are not allowed/],
      ["SELECT getSetting('readonly')", 403, /function getSetting is not allowed/],
      ['SELECT * APPLY(toString) FROM events', 403, /APPLY/],
    ];
    it.each(refused)('refuses %s', async (sql, status, message) => {
      const r = await post(sql);
      expect(r.status).toBe(status);
      expect(r.headers.get('x-clickhouse-exception-code')).toMatch(/^\d+$/);
      expect(await r.text()).toMatch(message);
    });

    it('accepts only lower limits in the URL and refuses every other setting there', async () => {
      const r = await post('SELECT 1', 'allow_ddl=1');
      expect(r.status).toBe(403);
      expect(await r.text()).toMatch(/Cannot modify 'allow_ddl' setting in readonly mode/);
      expect((await post('SELECT 1', 'max_threads=1')).status).toBe(403);
      const limited = await post(`SELECT tenant FROM events WHERE tenant = '${tenant}'`, 'max_result_rows=1');
      expect(limited.status).toBeGreaterThanOrEqual(400);
      expect(await limited.text()).toMatch(/Limit for result exceeded.*\(TOO_MANY_ROWS_OR_BYTES\)/);
      const ok = await post('SELECT 1', 'max_execution_time=5&max_result_rows=10&readonly=0');
      expect([ok.status, await ok.text()]).toEqual([200, '1\n']);
    });

    it('runs the checked canonical text with readonly = 1 per query; the session stays writable', async () => {
      const gate = createReadOnlyGate({ client: v.app.store.client, database: v.app.store.database });
      const admitted = await gate.admit({ sql: 'SELECT   tenant\u200bFROM events LIMIT 1' });
      if (isRefusal(admitted)) throw new Error(admitted.message);
      expect(admitted.query).toMatch(
        /^SELECT tenant FROM events LIMIT 1 FORMAT TabSeparated SETTINGS .*readonly = 1$/,
      );
      // The engine honours the suffix: the same settings on a probe read readonly = 1.
      const suffix = admitted.query.slice(admitted.query.indexOf(' SETTINGS '));
      expect(
        await direct(`SELECT getSetting('readonly') AS ro ${suffix.replace('FORMAT TabSeparated', '')}`),
      ).toEqual([{ ro: 1 }]);
      expect((await post('SELECT count() FROM events')).status).toBe(200);
      expect(await direct("SELECT getSetting('readonly') AS ro")).toEqual([{ ro: 0 }]);
      // The pipeline still writes (readonly did not stick to the shared session).
      const w = generateWorkload({
        tenant: 'chhttp-after',
        days: 1,
        people: 1,
        services: 0,
        seed: 3,
        attack: false,
      });
      expect((await v.post(w.events.slice(0, 50))).status).toBe(200);
      await waitFor(
        async () =>
          Number(
            (await direct<{ n: string }>("SELECT count() AS n FROM events WHERE tenant = 'chhttp-after'"))[0]!
              .n,
          ),
        (n) => n === 50,
        { what: 'events stored after the HTTP queries' },
      );
    });

    it('reports engine errors the ClickHouse way (syntax 400, unknown column 404)', async () => {
      const bad = await post('SELECT FROM WHERE');
      expect(bad.status).toBe(400);
      expect(await bad.text()).toMatch(/^Code: 62\. DB::Exception: .*\(SYNTAX_ERROR\)/);
      const missing = await post('SELECT no_such_column FROM events');
      expect(missing.status).toBe(404);
      expect(missing.headers.get('x-clickhouse-exception-code')).toBe('47');
    });

    it('is not served over a ClickHouse server (CLICKHOUSE_URL): Grafana reads the server as its own user', () => {
      const env = (e: Record<string, string>) => loadConfig({ ...e }).env;
      expect(servesClickHouseHttp(env({}))).toBe(true);
      expect(servesClickHouseHttp(env({ CLICKHOUSE_URL: 'http://127.0.0.1:8123' }))).toBe(false);
      expect(servesClickHouseHttp(env({ VIGIL_CLICKHOUSE_HTTP_ENABLED: 'false' }))).toBe(false);
    });
  });

  describe('audit', () => {
    it('records every query: who, a hash of the text, rows returned or why not; never the text', async () => {
      const answered = `SELECT operation FROM events WHERE tenant = '${tenant}' GROUP BY operation`;
      const r = await post(answered);
      expect(r.status).toBe(200);
      const rows = (await r.text()).trim().split('\n').length;
      const refusedSql = `SELECT file('/etc/hostname') -- ${tenant}`;
      expect((await post(refusedSql)).status).toBe(403);
      const failedSql = 'SELECT no_such_column FROM events -- audited';
      expect((await post(failedSql)).status).toBe(404);
      const byTarget = async (sql: string) =>
        direct<{ caller: string; outcome: string; reason: string }>(
          "SELECT caller, outcome, reason FROM admin_audit WHERE action = 'clickhouse.query' AND target = {t:String}",
          { t: `sha256:${createHash('sha256').update(sql).digest('hex')}` },
        );
      const caller = expect.stringMatching(/^analyst:[0-9a-f]{12}$/);
      expect(await byTarget(answered)).toEqual(
        expect.arrayContaining([{ caller, outcome: 'answered', reason: `rows=${rows}` }]),
      );
      expect(await byTarget(refusedSql)).toEqual([{ caller, outcome: 'refused', reason: 'function' }]);
      expect(await byTarget(failedSql)).toEqual([
        { caller, outcome: 'failed', reason: 'UNKNOWN_IDENTIFIER' },
      ]);
      const leaked = await direct<{ n: string }>(
        "SELECT count() AS n FROM admin_audit WHERE action = 'clickhouse.query' AND (position(target, 'SELECT') > 0 OR position(reason, 'hostname') > 0)",
      );
      expect(Number(leaked[0]!.n)).toBe(0);
    });
  });

  describe('an audit trail that cannot be written', () => {
    it('gets no answer: 503, and the rows are not sent', async () => {
      const app = createHttpServer({ logger: createLogger('silent'), maxBodyBytes: 1 << 20 });
      registerClickHouseHttpRoutes(app, {
        auth: createSourceAuth({ analyst: [analystToken] }),
        store: v.app.store.client,
        database: v.app.store.database,
        logger: createLogger('silent'),
        maxBodyBytes: 1 << 20,
        audit: async () => {
          throw new Error('admin_audit is not writable');
        },
      });
      const base = await app.listen({ host: '127.0.0.1', port: 0 });
      try {
        const r = await request(`${CLICKHOUSE_HTTP_PREFIX}/?default_format=JSONEachRow`, {
          method: 'POST',
          body: `SELECT tenant FROM events WHERE tenant = '${tenant}' LIMIT 1`,
          base,
        });
        expect(r.status).toBe(503);
        const text = await r.text();
        expect(text).toMatch(/could not be recorded in the audit trail/);
        expect(text).not.toContain(`"tenant":"${tenant}"`);
      } finally {
        await app.close();
      }
    });
  });

  describe('a tenant-limited caller', () => {
    let app: FastifyInstance;
    let base: string;
    const other = 'chhttp-other';
    const tokens = {
      one: `a-${randomBytes(8).toString('hex')}`,
      both: `b-${randomBytes(8).toString('hex')}`,
      none: `c-${randomBytes(8).toString('hex')}`,
      all: `d-${randomBytes(8).toString('hex')}`,
    };

    beforeAll(async () => {
      const w = generateWorkload({ tenant: other, days: 1, people: 2, services: 0, seed: 9, attack: false });
      expect((await v.post(w.events.slice(0, 40))).status).toBe(200);
      await waitFor(
        async () =>
          Number(
            (await direct<{ n: string }>(`SELECT count() AS n FROM events WHERE tenant = '${other}'`))[0]!.n,
          ),
        (n) => n === 40,
        { what: 'the other tenant stored' },
      );
      // Each token bound to its tenants as the pipeline's `tenancy` binds them; `all` is unbound.
      const auth = createSourceAuth({
        analyst: [
          { token: tokens.one, tenants: new Set([tenant]) },
          { token: tokens.both, tenants: new Set([tenant, other]) },
          { token: tokens.none, tenants: new Set<string>() },
          tokens.all,
        ],
      });
      app = createHttpServer({ logger: createLogger('warn'), maxBodyBytes: 1 << 20 });
      registerClickHouseHttpRoutes(app, {
        auth,
        store: v.app.store.client,
        database: v.app.store.database,
        logger: createLogger('warn'),
        maxBodyBytes: 1 << 20,
      });
      base = await app.listen({ host: '127.0.0.1', port: 0 });
    });
    afterAll(async () => app?.close());

    const tenantsSeen = async (token: string, sql: string) => {
      const r = await request(`${CLICKHOUSE_HTTP_PREFIX}/?default_format=JSONEachRow`, {
        method: 'POST',
        body: sql,
        token,
        base,
      });
      expect(r.status, await r.clone().text()).toBe(200);
      return [
        ...new Set(
          (await r.text())
            .trim()
            .split('\n')
            .filter(Boolean)
            .map((l) => (JSON.parse(l) as { tenant: string }).tenant),
        ),
      ].sort();
    };

    it.each([
      ['a plain read', 'SELECT DISTINCT tenant FROM events'],
      [
        'a union over tables, FINAL included',
        'SELECT tenant FROM events_1m UNION ALL SELECT tenant FROM findings FINAL UNION ALL SELECT tenant FROM incidents',
      ],
      ['a subquery in FROM', 'SELECT tenant FROM (SELECT tenant, count() FROM events GROUP BY tenant)'],
      [
        'a join',
        'SELECT b.tenant AS tenant FROM (SELECT DISTINCT tenant FROM events) AS a INNER JOIN (SELECT DISTINCT tenant FROM events_1m) AS b ON a.tenant = b.tenant',
      ],
      ['an IN subquery', 'SELECT DISTINCT tenant FROM events WHERE tenant IN (SELECT tenant FROM events_1m)'],
    ])('sees only its tenants through %s', async (_what, sql) => {
      expect(await tenantsSeen(tokens.one, sql)).toEqual([tenant]);
      expect(await tenantsSeen(tokens.both, sql)).toEqual(expect.arrayContaining([other]));
      expect(await tenantsSeen(tokens.none, sql)).toEqual([]);
      expect(await tenantsSeen(tokens.all, sql)).toEqual(expect.arrayContaining([tenant, other]));
    });

    it('cannot reach another tenant by naming it, in the query or in a subquery', async () => {
      const count = async (sql: string) => {
        const r = await request(`${CLICKHOUSE_HTTP_PREFIX}/?query=${encodeURIComponent(sql)}`, {
          token: tokens.one,
          base,
        });
        expect(r.status).toBe(200);
        return Number((await r.text()).trim());
      };
      expect(await count(`SELECT count() FROM events WHERE tenant = '${other}'`)).toBe(0);
      expect(
        await count(
          `SELECT count() FROM events WHERE actor IN (SELECT actor FROM events WHERE tenant = '${other}')`,
        ),
      ).toBe(0);
      expect(await count(`SELECT (SELECT count() FROM events_1m WHERE tenant = '${other}')`)).toBe(0);
      expect(await count(`SELECT count() FROM events WHERE tenant = '${tenant}'`)).toBeGreaterThan(0);
    });

    it('cannot read the tables that are not per tenant', async () => {
      for (const table of ['dead_letters', 'export_checkpoints']) {
        const r = await request(
          `${CLICKHOUSE_HTTP_PREFIX}/?query=${encodeURIComponent(`SELECT * FROM ${table}`)}`,
          { token: tokens.one, base },
        );
        expect(r.status).toBe(403);
        expect(await r.text()).toMatch(/not per tenant/);
        const all = await request(
          `${CLICKHOUSE_HTTP_PREFIX}/?query=${encodeURIComponent(`SELECT count() FROM ${table}`)}`,
          { token: tokens.all, base },
        );
        expect(all.status).toBe(200);
      }
    });
  });

  describe('a corpus generated from the engine finds no way past the gate', () => {
    let gate: ReadOnlyGate;
    let knownFunctions: EngineFunction[];
    let tableFunctions: string[];
    const admittedByCorpus: string[] = [];

    beforeAll(async () => {
      gate = createReadOnlyGate({ client: v.app.store.client, database: v.app.store.database });
      knownFunctions = await direct<EngineFunction>(
        'SELECT name, is_aggregate, case_insensitive, alias_to FROM system.functions',
      );
      tableFunctions = (await direct<{ name: string }>('SELECT name FROM system.table_functions')).map(
        (r) => r.name,
      );
      expect(knownFunctions.length).toBeGreaterThan(1000);
      expect(tableFunctions).toEqual(
        expect.arrayContaining(['file', 'filesystem', 'url', 's3', 'remote', 'merge']),
      );
    });

    /** The engine's canonical text of each (null where it does not parse), many per call. */
    const canonical = async (texts: readonly string[]): Promise<Array<string | null>> => {
      const out: Array<string | null> = [];
      for (let i = 0; i < texts.length; i += 1000) {
        const [row] = await direct<{ c: Array<string | null> }>(
          'SELECT arrayMap(q -> formatQuerySingleLineOrNull(q), {qs:Array(String)}) AS c',
          { qs: texts.slice(i, i + 1000) },
        );
        out.push(...row!.c);
      }
      return out;
    };

    /**
     * Runs the gate on each text. The gate's first step is the engine's canonical text, and it
     * then checks only that text, so texts with the same canonical text get the same verdict: the
     * gate runs once per distinct canonical text (and on a sample of the raw texts, to show that).
     * Returns the texts admitted.
     */
    const admittedOf = async (texts: readonly string[]): Promise<string[]> => {
      const canon = await canonical(texts);
      const verdicts = new Map<string, boolean>();
      for (const c of new Set(canon)) {
        if (c === null) continue;
        verdicts.set(c, !isRefusal(await gate.admit({ sql: c })));
      }
      for (let i = 0; i < texts.length; i += Math.max(1, Math.floor(texts.length / 40))) {
        const raw = !isRefusal(await gate.admit({ sql: texts[i]! }));
        expect(raw, JSON.stringify(texts[i])).toBe(canon[i] === null ? false : verdicts.get(canon[i]!));
      }
      return texts.filter((_t, i) => canon[i] !== null && verdicts.get(canon[i]!));
    };

    /** Hostile seeds as tokens, joined by single spaces. */
    const seeds = () => [
      ['SELECT', 'file', '(', `'${keysDir}/vault.key'`, ')'],
      ['SELECT', 'path', ',', 'content', 'FROM', 'filesystem', '(', `'${keysDir}'`, ')'],
      [
        'SELECT',
        "'x'",
        'INTO',
        'OUTFILE',
        `'${path.join(outDir, 'corpus-out')}'`,
        'TRUNCATE',
        'FORMAT',
        'TSV',
      ],
      ['SELECT', '*', 'FROM', 'url', '(', `'${listener.url}'`, ',', "'LineAsString'", ')'],
      ['SELECT', 'token', ',', 'sealed', 'FROM', 'vault'],
      ['SELECT', '*', 'FROM', '(', 'SELECT', '*', 'FROM', 'events', 'SETTINGS', 'readonly', '=', '2', ')'],
      ['SELECT', 'tenant', 'FROM', 'events', 'WHERE', 'tenant', 'IN', 'admin_audit'],
    ];
    /** Each seed with `sep` at each token boundary (before the first token and after the last too). */
    const atEveryBoundary = (sep: (k: number, tokens: string[]) => string) =>
      seeds().flatMap((tokens) =>
        Array.from({ length: tokens.length + 1 }, (_x, k) => {
          const before = tokens.slice(0, k).join(' ');
          const after = tokens.slice(k).join(' ');
          return `${before}${sep(k, tokens)}${after}`;
        }),
      );

    it('every Unicode space, format and control character at every token boundary', async () => {
      const chars = separatorCodePoints();
      expect(chars).toEqual(
        expect.arrayContaining(['\u200b', '\u0085', '\u2060', '\u180e', '\u3000', '\ufeff']),
      );
      const texts = chars.flatMap((c) => atEveryBoundary(() => c));
      admittedByCorpus.push(...(await admittedOf(texts)));
    }, 120_000);

    it('comments and quoting around every token', async () => {
      const comments = ['/**/', ' /* x */ ', ' --x\n', ' #x\n', ' #!x\n', ' /* /* nested */ */ ', '\n--\n'];
      const texts = comments.flatMap((c) => atEveryBoundary(() => c));
      for (const tokens of seeds())
        for (let k = 0; k < tokens.length; k++)
          for (const quoted of [
            `\`${tokens[k]}\``,
            `"${tokens[k]}"`,
            tokens[k]!.startsWith("'") ? `$$${tokens[k]!.slice(1, -1)}$$` : tokens[k]!.toUpperCase(),
          ])
            texts.push(tokens.map((t, i) => (i === k ? quoted : t)).join(' '));
      admittedByCorpus.push(...(await admittedOf(texts)));
    });

    it('SETTINGS at every nesting depth, in every clause that takes a subquery', async () => {
      const settings = [
        'readonly = 0',
        'readonly = 2',
        'allow_ddl = 1',
        'max_threads = 1',
        "dialect = 'kusto'",
      ];
      const texts: string[] = [];
      for (const s of settings) {
        for (let depth = 0; depth <= 6; depth++)
          for (let at = 0; at <= depth; at++) {
            let q = 'SELECT tenant FROM events';
            for (let d = 0; d <= depth; d++) {
              if (d === at) q = `${q} SETTINGS ${s}`;
              if (d < depth) q = `SELECT * FROM (${q})`;
            }
            texts.push(q, `${q} FORMAT JSON`);
          }
        texts.push(
          `SELECT tenant FROM events FORMAT JSON SETTINGS ${s}`,
          `SELECT tenant FROM events WHERE tenant IN (SELECT tenant FROM findings SETTINGS ${s})`,
          `SELECT (SELECT max(time) FROM events SETTINGS ${s}) AS m`,
          `SELECT * FROM events AS a JOIN (SELECT tenant FROM findings SETTINGS ${s}) AS b ON a.tenant = b.tenant`,
          `WITH x AS (SELECT tenant FROM events SETTINGS ${s}) SELECT * FROM x`,
          `SELECT tenant FROM events UNION ALL SELECT tenant FROM findings SETTINGS ${s}`,
        );
      }
      admittedByCorpus.push(...(await admittedOf(texts)));
    });

    it('every table function the engine lists, wherever a table can be named', async () => {
      const texts = tableFunctions.flatMap((tf) => [
        `SELECT * FROM ${tf}('${keysDir}')`,
        `SELECT * FROM ${tf}()`,
        `SELECT * FROM events AS e JOIN ${tf}('/etc/hostname') AS t ON 1`,
        `SELECT * FROM (SELECT * FROM ${tf}('/etc/hostname'))`,
        `SELECT * FROM events WHERE tenant IN (SELECT * FROM ${tf}('/etc/hostname'))`,
        `WITH t AS (SELECT * FROM ${tf}('/etc/hostname')) SELECT * FROM t`,
        `SELECT ${tf}('/etc/hostname')`,
        `SELECT * FROM ${tf.toUpperCase()}('/etc/hostname')`,
      ]);
      admittedByCorpus.push(...(await admittedOf(texts)));
    });

    it('every function the engine lists: admitted exactly when it resolves to the allow-list', async () => {
      const registry = createFunctionRegistry(knownFunctions);
      // Each name as listed; the case-insensitive ones also in upper and lower case.
      const names = [
        ...new Set(
          knownFunctions.flatMap((f) =>
            f.case_insensitive ? [f.name, f.name.toUpperCase(), f.name.toLowerCase()] : [f.name],
          ),
        ),
      ].filter((n) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(n));
      // Two arguments, the second a value: `x IN <name>` would be refused for its own reason.
      const texts = names.map((n) => `SELECT ${n}('${keysDir}/vault.key', 'x')`);
      const admitted = new Set(await admittedOf(texts));
      const canon = await canonical(texts);
      const allowed = (name: string) => {
        const resolved = registry.resolve(name);
        return resolved !== undefined && functionAllowed(resolved);
      };
      for (const [i, n] of names.entries()) {
        // The parser itself turns a few keywords into another function (EXTRACT(s) is extract(s)):
        // what is admitted is the function the engine parsed.
        const parsed = /^SELECT ([A-Za-z_][A-Za-z0-9_]*)\(/.exec(canon[i] ?? '')?.[1] ?? n;
        expect(admitted.has(texts[i]!), `${n} (parsed as ${parsed})`).toBe(
          canon[i] !== null && allowed(parsed),
        );
      }
      // What the allow-list holds exists in the engine, and none of it is a table function.
      for (const name of [...SCALAR_FUNCTIONS, ...AGGREGATE_FUNCTIONS]) {
        expect(registry.resolve(name), name).toBeDefined();
        expect(
          tableFunctions.map((t) => t.toLowerCase()),
          name,
        ).not.toContain(name.toLowerCase());
      }
      // Families that reach outside the rows a query reads, as the engine itself classifies them.
      const outside = await direct<{ name: string }>(
        `SELECT name FROM system.functions WHERE alias_to = '' AND categories IN ('Dictionary', 'Embedded Dictionary', 'Introspection', 'AI', 'Machine Learning', 'Encryption')
           OR name IN ('file', 'filesystemAvailable', 'filesystemCapacity', 'filesystemUnreserved', 'chdb', 'getSetting', 'getServerSetting', 'getMacro', 'hostName', 'FQDN', 'currentUser', 'joinGet', 'hasColumnInTable', 'formatQuery', 'sleep', 'throwIf', 'uptime', 'tcpPort', 'getClientHTTPHeader', 'globalVariable', 'serverUUID')`,
      );
      expect(outside.length).toBeGreaterThan(40);
      for (const { name } of outside)
        expect(admitted.has(`SELECT ${name}('${keysDir}/vault.key', 'x')`), name).toBe(false);
    }, 120_000);

    it('nothing the corpus got past the gate reads a secret, writes a file or reaches the network', async () => {
      // The seeds are hostile whatever separates, comments or quotes their tokens: none admitted.
      expect(admittedByCorpus).toEqual([]);
      expect(existsSync(path.join(outDir, 'corpus-out'))).toBe(false);
      expect(listener.hits()).toBe(0);
    });

    it('the route gives the gate’s verdicts (a sample of the corpus through HTTP)', async () => {
      const sample = atEveryBoundary(() => '\u200b').concat(atEveryBoundary(() => '\u00ad'));
      for (const sql of sample) {
        const r = await post(sql);
        const text = await r.text();
        expect([400, 403, 404], sql).toContain(r.status);
        for (const s of secrets) expect(text.includes(s)).toBe(false);
      }
      expect(listener.hits()).toBe(0);
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
      const day = testIso(0).slice(0, 10);
      const qs = [
        ...queries(),
        {
          name: 'types',
          sql: `SELECT number AS n, toString(number) AS s, toFixedString('ab', 2) AS fs,
              toLowCardinality(toString(number % 3)) AS lc, [toLowCardinality('x'), 'y'] AS alc,
              CAST([] AS Array(LowCardinality(String))) AS no_alc, toLowCardinality(toNullable('z')) AS lcn,
              map('k', number) AS m, (number, 'x') AS t, CAST((1, 'a') AS Tuple(a UInt8, b String)) AS nt,
              if(number % 2 = 0, NULL, number) AS nn, [[1, 2], [3]] AS aa, toDecimal64(number, 4) AS d,
              toDateTime64('${day} 00:00:00.123', 3, 'UTC') AS dt64, toDateTime('${day} 00:00:00', 'UTC') AS dt,
              toDate('${day}') AS dd, toUUID('00000000-0000-4000-8000-000000000001') AS u, toIPv4(167772161) AS ip4, toIPv6('::1') AS ip6,
              true AS b, CAST('a' AS Enum8('a' = 1, 'b' = 2)) AS e, toFloat32(1.5) AS f32, toInt128(-5) AS i128
            FROM (SELECT arrayJoin(range(5)) AS number)`,
        },
        { name: 'no rows', sql: "SELECT tenant FROM events WHERE tenant = 'no-such-tenant'" },
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
        expect(r.rows, q.name).toBe((await direct(q.sql)).length);
      }
      expect(out.results.some((r) => r.rows > 0)).toBe(true);
    }, 90_000);
  });
});
