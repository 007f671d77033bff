// Tenant bindings of credentials (pipeline `tenancy`): the parser fails closed and names the key or
// the variable, the credentials read at start follow the bindings (and only them), the principal
// carries its tenants, and the collectors' parsers refuse an item of another tenant by itself.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createSourceAuth,
  TENANT_REFUSED,
  tenantReadRefusal,
  tenantRefusal,
} from '../../../src/collectors/auth.js';
import { parseGenericBody } from '../../../src/collectors/generic/server.js';
import { mapExportRequest } from '../../../src/collectors/otlp/span.mapper.js';
import { decodeTraceRequestProto } from '../../../src/collectors/otlp/otlp.decoder.js';
import { credentialsFromConfig } from '../../../src/cli/credentials.js';
import { ConfigError, type Config, loadConfig } from '../../../src/config/config.js';
import { ALL_TENANTS, boundTenants } from '../../../src/model/index.js';
import { createTokenizer } from '../../../src/privacy/index.js';
import { makeGenericEvent } from '../../helpers/factories.js';
import { encodeTraceRequest, type SpanSpec } from '../../helpers/otlp-proto.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'vigil-tenancy-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const DEFAULT_PIPELINE = readFileSync(
  path.resolve(import.meta.dirname, '../../../pipelines/default.yaml'),
  'utf8',
);
let fileSeq = 0;
/** The default pipeline with a `tenancy` section appended. */
function pipelineWith(tenancy: string): string {
  const file = path.join(tmp, `pipeline-${++fileSeq}.yaml`);
  writeFileSync(file, `${DEFAULT_PIPELINE}\n${tenancy}\n`);
  return file;
}

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

const load = (tenancy: string, env: Record<string, string> = {}) =>
  loadConfig({
    VIGIL_DATA_DIR: mkdtempSync(path.join(tmp, 'data-')),
    VIGIL_PIPELINE: pipelineWith(tenancy),
    ...env,
  });

describe('pipeline tenancy: the binding parser fails closed', () => {
  it('parses bindings of sources, hoop.dev secrets and analysts', () => {
    const config = load(`tenancy:
  sources:
    - { source: generic, token_env: TOK_ACME, tenants: [acme, acme-eu] }
    - { source: hoop, webhook_secret_env: HOOP_ACME, tenants: [acme] }
    - { source: otlp, token_env: TOK_ALL, tenants: ["*"] }
  analysts:
    - { token_env: ANALYST_ACME, tenants: [acme] }`);
    expect(config.pipeline.tenancy).toEqual({
      sources: [
        { source: 'generic', token_env: 'TOK_ACME', tenants: ['acme', 'acme-eu'] },
        { source: 'hoop', webhook_secret_env: 'HOOP_ACME', tenants: ['acme'] },
        { source: 'otlp', token_env: 'TOK_ALL', tenants: ['*'] },
      ],
      analysts: [{ token_env: 'ANALYST_ACME', tenants: ['acme'] }],
    });
  });

  it.each([
    ['no tenants', '{ source: generic, token_env: T1 }', 'tenancy.sources.0.tenants: Required'],
    [
      'an empty tenant list',
      '{ source: generic, token_env: T1, tenants: [] }',
      'must name at least one tenant',
    ],
    [
      'a tenant list that is not a list',
      '{ source: generic, token_env: T1, tenants: acme }',
      'must be a list',
    ],
    [
      '"*" beside names',
      '{ source: generic, token_env: T1, tenants: ["*", acme] }',
      '"*" (every tenant) stands alone',
    ],
    [
      'a malformed tenant name',
      '{ source: generic, token_env: T1, tenants: ["ac me"] }',
      'tenancy.sources.0.tenants.0',
    ],
    ['a tenant named twice', '{ source: generic, token_env: T1, tenants: [a, a] }', 'names a tenant twice'],
    [
      'a bad variable name',
      '{ source: generic, token_env: "T-1", tenants: [a] }',
      'tenancy.sources.0.token_env',
    ],
    ['an unknown source', '{ source: kafka, token_env: T1, tenants: [a] }', 'tenancy.sources.0.source'],
    ['a bearer key on hoop', '{ source: hoop, token_env: T1, tenants: [a] }', 'tenancy.sources.0'],
    [
      'an unknown key',
      '{ source: generic, token_env: T1, tenants: [a], tenant: b }',
      "Unrecognized key(s) in object: 'tenant'",
    ],
  ])('refuses %s, naming the key', (_what, binding, message) => {
    const err = configError(() => load(`tenancy:\n  sources:\n    - ${binding}`));
    expect(err).toContain(message);
  });

  it('refuses one variable bound twice', () => {
    const err = configError(() =>
      load(`tenancy:
  sources:
    - { source: generic, token_env: T1, tenants: [a] }
  analysts:
    - { token_env: T1, tenants: [b] }`),
    );
    expect(err).toContain('tenancy.analysts.0.token_env: T1 is already bound by tenancy.sources.0.token_env');
  });

  it('refuses an unknown key under tenancy', () => {
    expect(configError(() => load('tenancy:\n  admins: []'))).toContain(
      "Unrecognized key(s) in object: 'admins'",
    );
  });
});

describe('credentialsFromConfig', () => {
  const creds = (config: Config, env: Record<string, string>) =>
    credentialsFromConfig(config, env, ['admin-tok']);

  it('without tenancy: every credential covers every tenant, as before', () => {
    const config = loadConfig({
      VIGIL_DATA_DIR: mkdtempSync(path.join(tmp, 'data-')),
      VIGIL_ANALYST_TOKEN: 'an-1',
    });
    const c = creds(config, { VIGIL_SOURCE_TOKEN_GENERIC: 'gen-1,gen-2', VIGIL_ANALYST_TOKEN: 'an-1' });
    expect(c.sources.generic).toEqual([
      { token: 'gen-1', tenants: ALL_TENANTS },
      { token: 'gen-2', tenants: ALL_TENANTS },
    ]);
    // The other sources get generated tokens, as ever.
    expect(c.sources.otlp).toHaveLength(1);
    expect(c.analysts).toEqual([{ token: 'an-1', tenants: ALL_TENANTS }]);
  });

  it('with tenancy: only bound variables count, each with its tenants; no token is generated', () => {
    const config = load(`tenancy:
  sources:
    - { source: generic, token_env: GEN_ACME, tenants: [acme] }
    - { source: generic, token_env: GEN_GLOBEX, tenants: [globex, initech] }
    - { source: hoop, webhook_secret_env: HOOP_ACME, tenants: [acme] }
  analysts:
    - { token_env: ANALYST_ACME, tenants: [acme] }
    - { token_env: VIGIL_ANALYST_TOKEN, tenants: ["*"] }`);
    const c = creds(config, {
      GEN_ACME: 'ga-1, ga-2',
      GEN_GLOBEX: 'gg-1',
      HOOP_ACME: 'whsec_a whsec_b',
      ANALYST_ACME: 'aa-1',
      VIGIL_ANALYST_TOKEN: 'all-1',
    });
    expect(c.sources.generic).toEqual([
      { token: 'ga-1', tenants: new Set(['acme']) },
      { token: 'ga-2', tenants: new Set(['acme']) },
      { token: 'gg-1', tenants: new Set(['globex', 'initech']) },
    ]);
    expect(c.sources.otlp).toEqual([]);
    expect(c.sources.teleport).toEqual([]);
    expect(c.hoopSecrets).toEqual([
      { secret: 'whsec_a', tenants: new Set(['acme']) },
      { secret: 'whsec_b', tenants: new Set(['acme']) },
    ]);
    expect(c.analysts).toEqual([
      { token: 'aa-1', tenants: new Set(['acme']) },
      { token: 'all-1', tenants: ALL_TENANTS },
    ]);
    expect(existsSync(path.join(config.dataDir, 'keys', 'source-otlp.token'))).toBe(false);
  });

  it('refuses a bound variable that is not set, naming it', () => {
    const config = load(
      'tenancy:\n  sources:\n    - { source: generic, token_env: GEN_ACME, tenants: [acme] }',
    );
    const err = configError(() => creds(config, { GEN_ACME: ' , ' }));
    expect(err).toContain('tenancy.sources.0 names GEN_ACME, which is not set');
  });

  it("refuses a source's own variable left set but bound by nothing, naming it", () => {
    const config = load(
      'tenancy:\n  sources:\n    - { source: generic, token_env: GEN_ACME, tenants: [acme] }',
    );
    const err = configError(() => creds(config, { GEN_ACME: 'ga', VIGIL_SOURCE_TOKEN_OTLP: 'old-otlp' }));
    expect(err).toContain('VIGIL_SOURCE_TOKEN_OTLP is set');
    expect(err).not.toContain('old-otlp');
    const hoop = configError(() => creds(config, { GEN_ACME: 'ga', VIGIL_HOOP_WEBHOOK_SECRET: 'whsec_x' }));
    expect(hoop).toContain('VIGIL_HOOP_WEBHOOK_SECRET is set');
  });

  it('refuses VIGIL_ANALYST_TOKEN left set when analysts are bound', () => {
    const config = load('tenancy:\n  analysts:\n    - { token_env: ANALYST_ACME, tenants: [acme] }', {
      VIGIL_ANALYST_TOKEN: 'unbound',
    });
    const err = configError(() => creds(config, { ANALYST_ACME: 'aa', VIGIL_ANALYST_TOKEN: 'unbound' }));
    expect(err).toContain('VIGIL_ANALYST_TOKEN is set');
  });

  it('refuses one token under two credentials, naming the variables and not the token', () => {
    const config = load(`tenancy:
  sources:
    - { source: generic, token_env: GEN_ACME, tenants: [acme] }
    - { source: generic, token_env: GEN_GLOBEX, tenants: [globex] }`);
    const err = configError(() => creds(config, { GEN_ACME: 'same-token', GEN_GLOBEX: 'other,same-token' }));
    expect(err).toContain('GEN_ACME and for GEN_GLOBEX');
    expect(err).not.toContain('same-token');
    // An admin token reused as a source token is refused too.
    const admin = configError(() => creds(config, { GEN_ACME: 'admin-tok', GEN_GLOBEX: 'g' }));
    expect(admin).toContain('VIGIL_ADMIN_TOKEN and for GEN_ACME');
  });
});

describe('VIGIL_EXPORT_TENANT', () => {
  it('takes a comma-separated set of tenants', () => {
    expect(loadConfig({ VIGIL_EXPORT_TENANT: 'acme, globex,acme' }).env.VIGIL_EXPORT_TENANT).toEqual([
      'acme',
      'globex',
    ]);
    expect(loadConfig({ VIGIL_EXPORT_TENANT: '' }).env.VIGIL_EXPORT_TENANT).toBeUndefined();
  });

  it.each(['acme,,globex', 'ac me', 'acme;globex'])('refuses %j, naming the variable', (value) => {
    expect(configError(() => loadConfig({ VIGIL_EXPORT_TENANT: value }))).toContain(
      'VIGIL_EXPORT_TENANT: must be tenant names separated by commas',
    );
  });
});

describe('the principal carries its tenants', () => {
  const auth = createSourceAuth({
    generic: ['open-token', { token: 'acme-token', tenants: new Set(['acme']) }],
    analyst: [{ token: 'analyst-acme', tenants: new Set(['acme', 'acme-eu']) }],
  });

  it('returns the bound set, or every tenant for a plain token', () => {
    const bound = auth.check('Bearer acme-token', 'generic');
    expect(bound.ok && bound.tenants).toEqual(new Set(['acme']));
    const open = auth.check('Bearer open-token', 'generic');
    expect(open.ok && open.tenants).toBe(ALL_TENANTS);
    const analyst = auth.check('Bearer analyst-acme', ['admin', 'analyst']);
    expect(analyst.ok && boundTenants(analyst.tenants)).toEqual(['acme', 'acme-eu']);
  });

  it('refuses writes and reads outside the set, naming the field and not the value', () => {
    const acme = new Set(['acme']);
    expect(tenantRefusal(acme, 'acme')).toBeUndefined();
    expect(tenantRefusal(acme, 'globex')).toBe(TENANT_REFUSED);
    expect(TENANT_REFUSED.startsWith('tenant: ')).toBe(true);
    expect(tenantRefusal(ALL_TENANTS, 'globex')).toBeUndefined();
    expect(tenantReadRefusal(acme, 'globex')).toMatch(/^tenant: /);
    expect(tenantReadRefusal(acme, 'globex')).not.toContain('globex');
    expect(tenantReadRefusal(acme, undefined)).toBeUndefined();
    expect(tenantReadRefusal(acme, '')).toBeUndefined();
    expect(tenantReadRefusal(ALL_TENANTS, 'globex')).toBeUndefined();
  });
});

describe('collectors refuse an item of another tenant by itself', () => {
  const tokenizer = createTokenizer({ version: 1, secret: Buffer.alloc(32, 9) });

  it('generic: the other lines are kept, the refused one is named by line', () => {
    const time = new Date().toISOString();
    const lines = [
      makeGenericEvent({ tenant: 'acme', time }),
      makeGenericEvent({ tenant: 'globex', time, user: 'eve@globex.example' }),
      makeGenericEvent({ tenant: 'acme', time, operation: 'scroll' }),
    ];
    const body = Buffer.from(lines.map((l) => JSON.stringify(l)).join('\n'));
    const r = parseGenericBody(
      body,
      'application/x-ndjson',
      { tokenizer, tenants: new Set(['acme']) },
      Date.now(),
    );
    expect(r.events.map((e) => e.tenant)).toEqual(['acme', 'acme']);
    expect(r.rejected).toEqual([{ line: 2, reason: TENANT_REFUSED }]);
    // Unbound (the operator's own replay): all three.
    expect(parseGenericBody(body, 'application/x-ndjson', { tokenizer }, Date.now()).events).toHaveLength(3);
  });

  it('OTLP: spans of a refused tenant are rejected and counted apart', () => {
    const start = BigInt(Date.now() - 60_000) * 1_000_000n;
    let seq = 0;
    const span = (): SpanSpec => {
      seq++;
      return {
        traceId: Buffer.from(`${seq}`.padStart(32, 'a'), 'hex'),
        spanId: Buffer.from(`${seq}`.padStart(16, 'b'), 'hex'),
        name: 'qdrant.search',
        kind: 3,
        start,
        end: start + 1_000_000n,
        attrs: [['qdrant.search.collection_name', 'docs']],
      };
    };
    const request = decodeTraceRequestProto(
      encodeTraceRequest([
        {
          attrs: [
            ['service.name', 'rag'],
            ['vigil.tenant', 'acme'],
          ],
          spans: [span(), span()],
        },
        {
          attrs: [
            ['service.name', 'rag'],
            ['vigil.tenant', 'globex'],
          ],
          spans: [span()],
        },
        // No tenant in the resource: the transport's hint (here none, so `default`).
        { attrs: [['service.name', 'rag']], spans: [span()] },
      ]),
    );
    const mapped = mapExportRequest(request, { tokenizer, now: Date.now(), tenants: new Set(['acme']) });
    expect(mapped.events.map((e) => e.tenant)).toEqual(['acme', 'acme']);
    expect(mapped).toMatchObject({ rejected: 2, tenantRefused: 2 });
    expect(mapped.errorMessage).toBe(`2 spans rejected: ${TENANT_REFUSED} (2)`);
    const open = mapExportRequest(request, { tokenizer, now: Date.now() });
    expect(open).toMatchObject({ rejected: 0, tenantRefused: 0 });
    expect(open.events).toHaveLength(4);
  });
});
