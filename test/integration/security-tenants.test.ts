// Tenants are a boundary (pipeline `tenancy`): a source credential writes only its tenants (per
// item: a mixed batch keeps what it may write), and a tenant-bound analyst reads only its tenants
// through every read path: the admin API (all of its routes), the CLI through it, the SIEM export
// restricted by VIGIL_EXPORT_TENANT, and the ClickHouse HTTP interface. A real vigil, embedded store.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, credentials, Metadata, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TENANT_REFUSED } from '../../src/collectors/auth.js';
import { decodeExportResponseProto } from '../../src/collectors/otlp/otlp.decoder.js';
import type { Finding, Incident } from '../../src/model/index.js';
import { actionRow, findingRow, incidentRow } from '../../src/store/index.js';
import { VIGIL_BIN } from '../helpers/child.js';
import { makeAction, makeIncident } from '../helpers/export-records.js';
import { makeFinding, makeGenericEvent } from '../helpers/factories.js';
import { makeHoopSessionOpen, makeTeleportStart, signHoopWebhook } from '../helpers/gateway-fixtures.js';
import { encodeTraceRequest, type SpanSpec } from '../helpers/otlp-proto.js';
import { tempDataDir, uniqueName } from '../helpers/services.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';
import { waitFor } from '../helpers/wait.js';

const run = promisify(execFile);
const secret = (name: string) => `${name}-${randomBytes(12).toString('hex')}`;
const A = uniqueName('ten-a');
const B = uniqueName('ten-b');
/** A third tenant, exported with A (VIGIL_EXPORT_TENANT is a set). */
const C = uniqueName('ten-c');
const TOKENS = {
  TEN_GEN_A: secret('gen-a'),
  TEN_GEN_B: secret('gen-b'),
  TEN_OTLP_A: secret('otlp-a'),
  TEN_TELEPORT_A: secret('tp-a'),
  TEN_HOOP_A: `whsec_${randomBytes(32).toString('base64')}`,
  TEN_ANALYST_A: secret('analyst-a'),
  TEN_ANALYST_ALL: secret('analyst-all'),
  VIGIL_ADMIN_TOKEN: secret('admin'),
};

describe('tenants are a boundary', () => {
  let v: TestVigil;
  const dir = tempDataDir();
  const pipeline = path.join(dir, 'pipeline.yaml');
  const exportFile = path.join(dir, 'export', 'ocsf.ndjson');
  const seeded: { findings: Finding[]; incidents: Incident[] } = { findings: [], incidents: [] };

  beforeAll(async () => {
    const defaults = readFileSync(path.resolve(import.meta.dirname, '../../pipelines/default.yaml'), 'utf8');
    writeFileSync(
      pipeline,
      `${defaults}
tenancy:
  sources:
    - { source: generic, token_env: TEN_GEN_A, tenants: [${A}] }
    - { source: generic, token_env: TEN_GEN_B, tenants: [${B}] }
    - { source: otlp, token_env: TEN_OTLP_A, tenants: [${A}] }
    - { source: teleport, token_env: TEN_TELEPORT_A, tenants: [${A}] }
    - { source: hoop, webhook_secret_env: TEN_HOOP_A, tenants: [${A}] }
  analysts:
    - { token_env: TEN_ANALYST_A, tenants: [${A}] }
    - { token_env: TEN_ANALYST_ALL, tenants: ["*"] }
`,
    );
    v = await startTestVigil({
      dataDir: dir,
      env: {
        ...TOKENS,
        VIGIL_PIPELINE: pipeline,
        // The helper's default generic token: with tenancy.sources every source token is bound.
        VIGIL_SOURCE_TOKEN_GENERIC: '',
        VIGIL_EXPORT_OCSF_FILE: exportFile,
        VIGIL_EXPORT_KINDS: 'finding',
        VIGIL_EXPORT_TENANT: `${A},${C}`,
        VIGIL_EXPORT_INTERVAL: '200ms',
      },
    });
    const now = Date.now();
    const finding = (tenant: string) =>
      makeFinding({
        tenant,
        event_time: now - 60_000,
        detected_time: now - 59_000,
        first_observed_time: now - 59_500,
      });
    seeded.findings = [finding(A), finding(A), finding(B), finding(C)];
    seeded.incidents = [A, B].map((tenant) =>
      makeIncident({ tenant, incident_id: uniqueName(`inc-${tenant}`), opened_time: now, updated_time: now }),
    );
    await v.app.store.client.insert('findings', seeded.findings.map(findingRow));
    await v.app.store.client.insert('incidents', seeded.incidents.map(incidentRow));
    await v.app.store.client.insert(
      'actions',
      seeded.incidents.map((i) =>
        actionRow(makeAction({ tenant: i.tenant, incident_id: i.incident_id, time: now })),
      ),
    );
  });
  afterAll(async () => v?.stop());

  const idsOf = (tenant: string) =>
    seeded.findings.filter((f) => f.tenant === tenant).map((f) => f.finding_id);
  const eventCount = async (tenant: string) => {
    const [row] = await v.app.store.client.query<{ n: string }>(
      'SELECT count() AS n FROM events FINAL WHERE tenant = {t:String}',
      { t: tenant },
    );
    return Number(row!.n);
  };
  const admin = (route: string, token: string, method = 'GET', body?: unknown) =>
    fetch(`${v.app.adminUrl}${route}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: method === 'POST' ? JSON.stringify(body ?? {}) : undefined,
    });

  describe('writes', () => {
    const postGeneric = (events: object[], token: string) =>
      fetch(`${v.app.collectorUrl}/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
        body: events.map((e) => JSON.stringify(e)).join('\n'),
      });
    const event = (tenant: string, over: object = {}) =>
      makeGenericEvent({ tenant, time: new Date().toISOString(), id: uniqueName('ev'), ...over });

    it('generic: keeps the events of its tenant and refuses the others line by line', async () => {
      const res = await postGeneric(
        [event(A), event(B, { user: 'mallory@example.com' }), event(A)],
        TOKENS.TEN_GEN_A,
      );
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        accepted: 2,
        rejected: [{ line: 2, reason: TENANT_REFUSED }],
        rejected_count: 1,
      });

      const refused = await postGeneric([event(B), event(B)], TOKENS.TEN_GEN_A);
      expect(refused.status).toBe(403);
      const body = (await refused.json()) as { error: string; accepted: number; rejected: unknown[] };
      expect(body).toMatchObject({ error: TENANT_REFUSED, accepted: 0 });
      expect(body.rejected).toHaveLength(2);
      expect(JSON.stringify(body)).not.toContain(B);

      // B's own credential writes B.
      expect((await postGeneric([event(B)], TOKENS.TEN_GEN_B)).status).toBe(200);
      await waitFor(
        async () => [await eventCount(A), await eventCount(B)],
        ([a, b]) => a === 2 && b === 1,
        { what: "A's two events and B's one" },
      );
    });

    it('Teleport: the request tenant must be one of the token', async () => {
      const teleport = (tenant: string) =>
        fetch(`${v.app.collectorUrl}/v1/teleport/events?tenant=${tenant}`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${TOKENS.TEN_TELEPORT_A}`,
            'content-type': 'application/x-ndjson',
          },
          body: JSON.stringify(makeTeleportStart()),
        });
      const refused = await teleport(B);
      expect(refused.status).toBe(403);
      expect(await refused.json()).toEqual({ error: TENANT_REFUSED });
      expect((await teleport(A)).status).toBe(200);
    });

    it('hoop.dev: the tenant must be one of the secret that signed the delivery', async () => {
      const hoop = (tenant: string) => {
        const body = JSON.stringify(makeHoopSessionOpen());
        return fetch(`${v.app.collectorUrl}/v1/hoop/webhooks?tenant=${tenant}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...signHoopWebhook(TOKENS.TEN_HOOP_A, body) },
          body,
        });
      };
      const refused = await hoop(B);
      expect(refused.status).toBe(403);
      expect(await refused.json()).toEqual({ error: TENANT_REFUSED });
      const ok = await hoop(A);
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ accepted: 1 });
    });

    describe('OTLP', () => {
      const start = BigInt(Date.now() - 60_000) * 1_000_000n;
      const span = (): SpanSpec => ({
        traceId: randomBytes(16),
        spanId: randomBytes(8),
        name: 'qdrant.search',
        kind: 3,
        start,
        end: start + 1_000_000n,
        attrs: [['qdrant.search.collection_name', 'docs']],
      });
      const resource = (tenant: string) => ({
        attrs: [
          ['service.name', 'rag-api'],
          ['vigil.tenant', tenant],
        ] as Array<[string, string]>,
        spans: [span()],
      });
      const postTraces = (tenants: string[]) =>
        fetch(`${v.app.otlpHttpUrl}/v1/traces`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKENS.TEN_OTLP_A}`, 'content-type': 'application/x-protobuf' },
          body: encodeTraceRequest(tenants.map(resource)),
        });

      it('HTTP: spans of another tenant are rejected spans; all of them, 403', async () => {
        const mixed = await postTraces([A, B]);
        expect(mixed.status).toBe(200);
        expect(decodeExportResponseProto(new Uint8Array(await mixed.arrayBuffer()))).toEqual({
          rejectedSpans: 1,
          errorMessage: `1 span rejected: ${TENANT_REFUSED} (1)`,
        });
        expect((await postTraces([B, B])).status).toBe(403);
      });

      it('gRPC: every span of another tenant is PERMISSION_DENIED', async () => {
        const client = new Client(v.app.otlpGrpcAddress!, credentials.createInsecure());
        const exportOf = (tenants: string[]) =>
          new Promise<{ code: number; details?: string }>((resolve) => {
            const md = new Metadata();
            md.set('authorization', `Bearer ${TOKENS.TEN_OTLP_A}`);
            client.makeUnaryRequest(
              '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
              (b: Buffer) => b,
              (b: Buffer) => b,
              Buffer.from(encodeTraceRequest(tenants.map(resource))),
              md,
              (err) => resolve(err ? { code: err.code ?? -1, details: err.details } : { code: status.OK }),
            );
          });
        try {
          expect(await exportOf([B])).toEqual({
            code: status.PERMISSION_DENIED,
            details: `1 span rejected: ${TENANT_REFUSED} (1)`,
          });
          expect((await exportOf([A])).code).toBe(status.OK);
        } finally {
          client.close();
        }
      });
    });
  });

  describe('reads through the admin API', () => {
    it("lists only A's findings and incidents to A's analyst, and refuses ?tenant=B", async () => {
      for (const query of ['', `?tenant=${A}`, '?tenant=']) {
        const findings = (await (
          await admin(`/v1/findings${query}`, TOKENS.TEN_ANALYST_A)
        ).json()) as Finding[];
        expect(new Set(findings.map((f) => f.tenant))).toEqual(new Set([A]));
        expect(findings.map((f) => f.finding_id).sort()).toEqual(expect.arrayContaining(idsOf(A)));
        const incidents = (await (
          await admin(`/v1/incidents${query}`, TOKENS.TEN_ANALYST_A)
        ).json()) as Incident[];
        expect(incidents.map((i) => i.tenant)).toEqual([A]);
      }
      for (const route of ['/v1/findings', '/v1/incidents', '/v1/summary', '/v1/actions']) {
        const res = await admin(`${route}?tenant=${B}`, TOKENS.TEN_ANALYST_A);
        expect(res.status, route).toBe(403);
        const { error } = (await res.json()) as { error: string };
        expect(error).toBe('tenant: not one of the tenants this token may read');
      }
    });

    it('answers 403 to ?tenant=B on every admin route, enumerated from the running server', async () => {
      const failures: string[] = [];
      for (const r of v.app.routes.filter(
        (x) => x.listener === 'admin' && !x.url.startsWith('/clickhouse'),
      )) {
        const url = `${r.url.replace(/:[A-Za-z_]+/g, 'x-1')}?tenant=${B}`;
        const res = await admin(url, TOKENS.TEN_ANALYST_A, r.method);
        await res.arrayBuffer();
        if (res.status !== 403) failures.push(`${r.method} ${r.url} → ${res.status}`);
      }
      expect(failures).toEqual([]);
    });

    it("counts only A's rows in the summary and lists only A's actions", async () => {
      const mine = (await (await admin('/v1/summary', TOKENS.TEN_ANALYST_A)).json()) as Record<
        string,
        number
      >;
      const all = (await (await admin('/v1/summary', TOKENS.TEN_ANALYST_ALL)).json()) as Record<
        string,
        number
      >;
      expect(mine).toMatchObject({ findings: 2, incidents: 1, actions: 1, dead_letters: 0 });
      expect(all.findings).toBeGreaterThanOrEqual(4);
      expect(all.incidents).toBeGreaterThanOrEqual(2);
      const actions = (await (await admin('/v1/actions', TOKENS.TEN_ANALYST_A)).json()) as Array<{
        tenant: string;
      }>;
      expect(actions.map((a) => a.tenant)).toEqual([A]);
      const failed = await admin('/v1/actions?failed=1', TOKENS.TEN_ANALYST_A);
      expect(failed.status).toBe(200);
    });

    it("lets the unbound analyst read B's rows", async () => {
      const findings = (await (
        await admin(`/v1/findings?tenant=${B}`, TOKENS.TEN_ANALYST_ALL)
      ).json()) as Finding[];
      expect(findings.map((f) => f.finding_id)).toEqual(idsOf(B));
    });

    it("treats B's finding and incident as absent for A's analyst (feedback, acknowledge)", async () => {
      const [b] = idsOf(B);
      const fb = await admin(`/v1/findings/${b}/feedback`, TOKENS.TEN_ANALYST_A, 'POST', {
        label: 'false-positive',
      });
      expect(fb.status).toBe(404);
      const [a] = idsOf(A);
      expect(
        (await admin(`/v1/findings/${a}/feedback`, TOKENS.TEN_ANALYST_A, 'POST', { label: 'true-positive' }))
          .status,
      ).toBe(200);
      const [incA, incB] = seeded.incidents;
      expect(
        (await admin(`/v1/incidents/${incB!.incident_id}/ack`, TOKENS.TEN_ANALYST_A, 'POST')).status,
      ).toBe(404);
      const acked = await admin(`/v1/incidents/${incA!.incident_id}/ack`, TOKENS.TEN_ANALYST_A, 'POST');
      expect(acked.status).toBe(200);
      expect(await acked.json()).toMatchObject({ incident_id: incA!.incident_id, status: 'acknowledged' });
    });

    it('refuses the cross-tenant routes (process metrics) to a bound analyst only', async () => {
      for (const route of ['/metrics', '/v1/metrics']) {
        const res = await admin(route, TOKENS.TEN_ANALYST_A);
        expect(res.status, route).toBe(403);
        expect(((await res.json()) as { error: string }).error).toMatch(/every tenant/);
        expect((await admin(route, TOKENS.TEN_ANALYST_ALL)).status, route).toBe(200);
      }
    });

    it('runs a backtest over its own tenants only', async () => {
      const since = new Date(Date.now() - 3_600_000).toISOString();
      expect((await admin(`/v1/backtest?since=${since}&tenant=${B}`, TOKENS.TEN_ANALYST_A)).status).toBe(403);
      const report = async (token: string) =>
        (await (await admin(`/v1/backtest?since=${since}`, token)).json()) as { events: number };
      const [a, b] = [await eventCount(A), await eventCount(B)];
      expect(a).toBeGreaterThan(0);
      expect(b).toBeGreaterThan(0);
      expect((await report(TOKENS.TEN_ANALYST_A)).events).toBe(a);
      expect((await report(TOKENS.TEN_ANALYST_ALL)).events).toBeGreaterThanOrEqual(a + b);
    });

    it("shows a bound analyst only its tenants' rows on the ClickHouse HTTP interface", async () => {
      const sql = (token: string, query: string) =>
        fetch(`${v.app.adminUrl}/clickhouse/?query=${encodeURIComponent(query)}`, {
          headers: { 'x-clickhouse-key': token },
        });
      const tenantsOf = async (token: string) => {
        const r = await sql(token, 'SELECT DISTINCT tenant FROM events ORDER BY tenant FORMAT TSV');
        expect(r.status).toBe(200);
        return (await r.text()).trim().split('\n').filter(Boolean);
      };
      expect(await tenantsOf(TOKENS.TEN_ANALYST_A)).toEqual([A]);
      expect(await tenantsOf(TOKENS.TEN_ANALYST_ALL)).toEqual(expect.arrayContaining([A, B]));
      const named = await sql(
        TOKENS.TEN_ANALYST_A,
        `SELECT count() FROM findings WHERE tenant = '${B}' FORMAT TSV`,
      );
      expect((await named.text()).trim()).toBe('0');
      // dead_letters has no tenant column: a bound analyst may not read it at all.
      expect((await sql(TOKENS.TEN_ANALYST_A, 'SELECT count() FROM dead_letters')).status).toBe(403);
    });
  });

  it('exports only the tenants of VIGIL_EXPORT_TENANT to the SIEM', async () => {
    const lines = await waitFor(
      () =>
        existsSync(exportFile)
          ? readFileSync(exportFile, 'utf8')
              .trimEnd()
              .split('\n')
              .map((l) => JSON.parse(l) as { metadata: { tenant_uid: string } })
          : [],
      (l) => l.length >= 3,
      { what: "A's and C's findings in the OCSF file" },
    );
    expect(lines.map((l) => l.metadata.tenant_uid).sort()).toEqual([A, A, C].sort());
    expect(readFileSync(exportFile, 'utf8')).not.toContain(B);
  });

  describe('the CLI, through the admin API', () => {
    const vigil = async (args: string[], env: Record<string, string>) => {
      try {
        const r = await run(process.execPath, [VIGIL_BIN, ...args], {
          env: {
            ...process.env,
            KAFKA_BROKERS: '',
            REDIS_URL: '',
            CLICKHOUSE_URL: '',
            VIGIL_DATA_DIR: tempDataDir(),
            VIGIL_PIPELINE: pipeline,
            VIGIL_HOST: '127.0.0.1',
            VIGIL_ADMIN_PORT: new URL(v.app.adminUrl).port,
            VIGIL_LOG_LEVEL: 'warn',
            ...env,
          },
          timeout: 60_000,
        });
        return { code: 0, stdout: r.stdout, stderr: r.stderr };
      } catch (err) {
        const e = err as { code?: number; stdout?: string; stderr?: string };
        return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
      }
    };

    it("`vigil findings` with A's analyst token lists A's findings only, and refuses --tenant B", async () => {
      const env = { VIGIL_CLI_TOKEN: TOKENS.TEN_ANALYST_A };
      const listed = await vigil(['findings', '--format', 'json'], env);
      expect(listed.stderr).toBe('');
      const rows = JSON.parse(listed.stdout) as Finding[];
      expect(new Set(rows.map((f) => f.tenant))).toEqual(new Set([A]));
      expect(rows.map((f) => f.finding_id)).toEqual(expect.arrayContaining(idsOf(A)));

      const refused = await vigil(['findings', '--format', 'json', '--tenant', B], env);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain('answered 403');
      expect(refused.stderr).toContain('tenant: not one of the tenants this token may read');
    });

    it('never falls back to the store itself when VIGIL_CLI_TOKEN is set and no vigil answers', async () => {
      const r = await vigil(['findings', '--format', 'json'], {
        VIGIL_CLI_TOKEN: TOKENS.TEN_ANALYST_A,
        VIGIL_ADMIN_PORT: '1',
      });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('VIGIL_CLI_TOKEN is set');
    });
  });
});
