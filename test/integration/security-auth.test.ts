// Nothing let in: every route of every listener (enumerated from the running servers, so a route
// added tomorrow is covered tomorrow) refuses a caller without credentials, with a wrong one, and
// with another source's; unknown paths too; admin-only routes refuse an analyst.
import { Client, credentials, Metadata, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpRoute } from '../../src/cli/app.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';

const ADMIN = 'sec-admin-token-5b0c';
const ANALYST = 'sec-analyst-token-77de';
const HOOP_SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

/** Routes that change state or reveal identities: only the admin role may call them. */
const ADMIN_ONLY = [
  'POST /v1/reidentify',
  'POST /v1/keys/rotate',
  'POST /v1/replay',
  'GET /v1/audit',
  'GET /v1/verify',
  'POST /v1/incidents/:id/approve',
  'POST /v1/actions/:id/undo',
  'POST /v1/responder/kill-switch',
];

/**
 * Routes open without credentials, on purpose and reviewed: the ClickHouse-compatible liveness
 * probe Grafana calls before it has credentials (it reads nothing).
 */
const PUBLIC = new Set(['GET /clickhouse/ping', 'HEAD /clickhouse/ping']);
/** The ClickHouse HTTP protocol answers a wrong password with 403 (AUTHENTICATION_FAILED). */
const wrongTokenStatuses = (url: string) => (url.startsWith('/clickhouse') ? [401, 403] : [401]);

const UNKNOWN_PATHS = [
  '/',
  '/nope',
  '/v1',
  '/v1/unknown',
  '/v1/events/../../etc/passwd',
  '/%2e%2e/admin',
  '/v2/traces',
];

describe('authentication and roles on every listener', () => {
  let v: TestVigil;
  let base: Record<HttpRoute['listener'], string>;
  beforeAll(async () => {
    v = await startTestVigil({
      env: { VIGIL_ADMIN_TOKEN: ADMIN, VIGIL_ANALYST_TOKEN: ANALYST, VIGIL_HOOP_WEBHOOK_SECRET: HOOP_SECRET },
    });
    base = { gateway: v.app.collectorUrl!, otlp: v.app.otlpHttpUrl!, admin: v.app.adminUrl };
  });
  afterAll(async () => v?.stop());

  const call = async (listener: HttpRoute['listener'], method: string, url: string, token?: string) => {
    const res = await fetch(`${base[listener]}${url}`, {
      method,
      headers: {
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
      },
      body: method === 'POST' ? '{}' : undefined,
    });
    await res.arrayBuffer();
    return res.status;
  };
  const concrete = (url: string) => url.replace(/:[A-Za-z_]+/g, 'x-1').replace(/\*/g, 'x');

  it('has enumerated routes on the three listeners', () => {
    const listeners = new Set(v.app.routes.map((r) => r.listener));
    expect([...listeners].sort()).toEqual(['admin', 'gateway', 'otlp']);
    expect(v.app.routes.length).toBeGreaterThan(20);
  });

  it('answers 401 to every route without credentials, and refuses an unknown token', async () => {
    const failures: string[] = [];
    for (const r of v.app.routes) {
      if (PUBLIC.has(`${r.method} ${r.url}`)) continue;
      const none = await call(r.listener, r.method, concrete(r.url));
      if (none !== 401) failures.push(`${r.listener} ${r.method} ${r.url} (no credentials) → ${none}`);
      const bad = await call(r.listener, r.method, concrete(r.url), 'not-a-real-token');
      if (!wrongTokenStatuses(r.url).includes(bad))
        failures.push(`${r.listener} ${r.method} ${r.url} (unknown token) → ${bad}`);
    }
    expect(failures).toEqual([]);
  });

  it('keeps the routes open without credentials to the reviewed list, and they read nothing', async () => {
    const open: string[] = [];
    for (const r of v.app.routes) {
      if ((await call(r.listener, r.method, concrete(r.url))) < 400) open.push(`${r.method} ${r.url}`);
    }
    for (const route of open) expect(PUBLIC.has(route), `${route} answers without credentials`).toBe(true);
    if (open.includes('GET /clickhouse/ping')) {
      const res = await fetch(`${base.admin}/clickhouse/ping`);
      expect(await res.text()).toBe('Ok.\n');
    }
  });

  it('answers 401 on unknown paths and methods without credentials, 404 only to a known caller', async () => {
    const failures: string[] = [];
    for (const listener of ['gateway', 'otlp', 'admin'] as const) {
      for (const p of UNKNOWN_PATHS) {
        for (const method of ['GET', 'POST', 'DELETE', 'PUT']) {
          const s = await call(listener, method, p);
          if (s !== 401) failures.push(`${listener} ${method} ${p} → ${s}`);
        }
      }
      const known = listener === 'admin' ? ADMIN : v.app.sourceToken;
      expect(await call(listener, 'GET', '/v1/unknown', known)).toBe(404);
    }
    // A known path with the wrong method is an unknown route.
    expect(await call('gateway', 'GET', '/v1/events')).toBe(401);
    expect(await call('otlp', 'GET', '/v1/traces')).toBe(401);
    expect(failures).toEqual([]);
  });

  it("refuses another source's valid token (403), in both directions", async () => {
    const collectorRoutes = v.app.routes.filter(
      (r) => r.listener !== 'admin' && r.url !== '/v1/hoop/webhooks',
    );
    expect(collectorRoutes.length).toBeGreaterThan(0);
    for (const r of collectorRoutes) expect(await call(r.listener, r.method, r.url, ADMIN), r.url).toBe(403);
    for (const r of v.app.routes.filter((x) => x.listener === 'admin' && !PUBLIC.has(`${x.method} ${x.url}`)))
      expect(await call('admin', r.method, concrete(r.url), v.app.sourceToken), r.url).toBe(403);
    // The generic token is not the OTLP one.
    expect(await call('otlp', 'POST', '/v1/traces', v.app.sourceTokens.generic)).toBe(403);
  });

  it('keeps re-identification, key rotation, replay, audit and response controls admin-only', async () => {
    const declared = v.app.routes
      .filter((r) => r.listener === 'admin' && r.roles?.length === 1 && r.roles[0] === 'admin')
      .map((r) => `${r.method} ${r.url}`);
    for (const route of ADMIN_ONLY) expect(declared, `${route} must be admin-only`).toContain(route);
    const failures: string[] = [];
    for (const route of declared) {
      const [method, url] = route.split(' ') as [string, string];
      const s = await call('admin', method, concrete(url), ANALYST);
      if (s !== 403) failures.push(`${route} → ${s} for an analyst`);
    }
    expect(failures).toEqual([]);
  });

  it('lets an analyst read, and an admin through the role check', async () => {
    for (const url of ['/v1/findings', '/v1/incidents', '/v1/summary', '/v1/actions'])
      expect(await call('admin', 'GET', url, ANALYST), url).toBe(200);
    expect(await call('admin', 'GET', '/v1/audit', ADMIN)).toBe(200);
    // The analyst's refused attempt is itself no data: the audit list is admin-only.
    expect(await call('admin', 'POST', '/v1/reidentify', ANALYST)).toBe(403);
  });

  it('refuses an OTLP gRPC export without a valid token', async () => {
    const client = new Client(v.app.otlpGrpcAddress!, credentials.createInsecure());
    const exportWith = (token?: string) =>
      new Promise<number>((resolve) => {
        const md = new Metadata();
        if (token !== undefined) md.set('authorization', `Bearer ${token}`);
        client.makeUnaryRequest(
          '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
          (b: Buffer) => b,
          (b: Buffer) => b,
          Buffer.alloc(0),
          md,
          (err) => resolve(err ? (err.code ?? -1) : 0),
        );
      });
    try {
      expect(await exportWith()).toBe(status.UNAUTHENTICATED);
      expect(await exportWith('wrong')).toBe(status.UNAUTHENTICATED);
      expect(await exportWith(ADMIN)).toBe(status.PERMISSION_DENIED);
      expect(await exportWith(v.app.sourceTokens.otlp)).toBe(status.OK);
    } finally {
      client.close();
    }
  });
});
