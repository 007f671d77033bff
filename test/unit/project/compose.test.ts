// docker-compose.yml against vigil itself: every variable set on a vigil service is a key of the
// configuration schema (or a pipeline-named one), the configuration it yields parses, the ports
// it publishes are the ones the service's roles listen on, the health checks hit routes the
// admin API has, and Grafana is provisioned from files that exist.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { registerAdminRoutes } from '../../../src/admin/server.js';
import { registerClickHouseHttpRoutes } from '../../../src/admin/clickhouse-http.js';
import { ALL_ROLES } from '../../../src/cli/app.js';
import { envSchema, loadConfig } from '../../../src/config/config.js';
import { createMetrics } from '../../../src/telemetry/index.js';
import { CLICKHOUSE_PLUGIN, CLICKHOUSE_PLUGIN_VERSION } from '../../helpers/clickhouse-plugin.js';

const REPO = path.resolve(import.meta.dirname, '../../..');

interface Service {
  image?: string;
  entrypoint?: string[];
  build?: string;
  command?: string[];
  environment?: Record<string, string | number | boolean>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}
const compose = parseYaml(readFileSync(path.join(REPO, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const vigilServices = Object.entries(compose.services).filter(([, s]) => s.build !== undefined);

/** Variables named by the pipeline (tokens, webhook and hoop.dev settings), not by the schema. */
const PIPELINE_NAMED = /^VIGIL_(SOURCE_TOKEN_|WEBHOOK_|HOOP_)[A-Z0-9_]+$/;

/** Compose interpolation with the operator's .env filled by plausible values. */
function interpolate(value: string): string {
  return value.replace(
    /\$\{([A-Z0-9_]+)(?::?([-?])([^}]*))?\}/g,
    (_all, name: string, op?: string, arg?: string) => {
      if (op === '-') return arg ?? '';
      return name === 'VIGIL_TOKEN_KEY'
        ? Buffer.alloc(32, 7).toString('base64')
        : `test-${name.toLowerCase()}`;
    },
  );
}

function envOf(s: Service): Record<string, string> {
  return Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, interpolate(String(v))]));
}

const rolesOf = (s: Service) => {
  const i = s.command?.indexOf('--roles') ?? -1;
  return i < 0 ? [...ALL_ROLES] : s.command![i + 1]!.split(',');
};

/** The container side of a `ports` entry (`[ip:]host:container[/proto]`). */
const containerPort = (entry: string) => Number(entry.split('/')[0]!.split(':').pop());

describe('docker-compose.yml', () => {
  it('runs vigil as collector, detector (store + detect) and responder, covering every stage', () => {
    expect(Object.fromEntries(vigilServices.map(([name, s]) => [name, rolesOf(s)]))).toEqual({
      'vigil-collector': ['collector'],
      'vigil-detector': ['store', 'detect'],
      'vigil-responder': ['respond', 'export'],
    });
    for (const [, s] of vigilServices) for (const r of rolesOf(s)) expect(ALL_ROLES).toContain(r);
    for (const dep of ['kafka', 'clickhouse', 'redis', 'grafana'])
      expect(compose.services[dep], dep).toBeDefined();
  });

  it.each(vigilServices)('%s sets only variables the configuration knows, and they parse', (_name, s) => {
    const env = envOf(s);
    const known = new Set(Object.keys(envSchema.innerType().shape));
    const unknown = Object.keys(env).filter((k) => !known.has(k) && !PIPELINE_NAMED.test(k));
    expect(unknown).toEqual([]);
    const config = loadConfig(env);
    expect(config.mode).toEqual({ bus: 'kafka', store: 'server', queue: 'bullmq' });
    // Listeners must be reachable from other containers.
    expect(config.env.VIGIL_HOST).toBe('0.0.0.0');
    // Data that must outlive the container (generated keys, the audit chain's identity) is on a volume.
    expect(s.volumes?.some((v) => v.endsWith(`:${config.env.VIGIL_DATA_DIR}`))).toBe(true);
    // The services it talks to are services of this file.
    for (const url of [
      config.env.CLICKHOUSE_URL!,
      config.env.REDIS_URL!,
      `kafka://${config.env.KAFKA_BROKERS}`,
    ])
      expect(compose.services[new URL(url).hostname], url).toBeDefined();
  });

  it.each(vigilServices)('%s publishes only ports its roles listen on', (_name, s) => {
    const config = loadConfig(envOf(s));
    const listening = new Set([config.env.VIGIL_ADMIN_PORT]);
    if (rolesOf(s).includes('collector')) {
      listening.add(config.env.VIGIL_COLLECTOR_PORT);
      if (config.pipeline.sources.otlp?.enabled) {
        listening.add(config.env.VIGIL_OTLP_HTTP_PORT);
        listening.add(config.env.VIGIL_OTLP_GRPC_PORT);
      }
    }
    for (const p of s.ports ?? []) expect(listening.has(containerPort(p)), p).toBe(true);
  });

  it.each(vigilServices)(
    '%s health check asks a real admin route on the admin port, with the admin token',
    async (_name, s) => {
      const config = loadConfig(envOf(s));
      const test = s.healthcheck!.test.join(' ');
      const url = new URL(/https?:\/\/[^'"\s]+/.exec(test)![0]);
      expect(Number(url.port)).toBe(config.env.VIGIL_ADMIN_PORT);
      expect(test).toContain('process.env.VIGIL_ADMIN_TOKEN');
      // The admin API's own routes, registered on a bare server.
      const app = Fastify();
      const stub = {} as never;
      registerAdminRoutes(app, {
        auth: { check: () => ({ ok: false, status: 401, reason: 'stub', refusal: 'invalid_credential' }) },
        store: stub,
        ingest: stub,
        tokenizer: stub,
        metrics: createMetrics(),
        logger: stub,
        maxBodyBytes: 1024,
        ready: async () => true,
        reidentify: stub,
      } as Parameters<typeof registerAdminRoutes>[1]);
      registerClickHouseHttpRoutes(app, {
        auth: stub,
        store: stub,
        database: 'vigil',
        logger: stub,
        maxBodyBytes: 1024,
      });
      await app.ready();
      expect(app.hasRoute({ method: 'GET', url: url.pathname }), url.pathname).toBe(true);
      expect(url.pathname).toBe('/readyz');
      await app.close();
    },
  );

  it('health-checks every service and starts vigil only after what it needs is healthy', () => {
    for (const [name, s] of Object.entries(compose.services)) expect(s.healthcheck?.test, name).toBeDefined();
    for (const [name, s] of vigilServices) {
      const needs = rolesOf(s).includes('respond')
        ? ['kafka', 'clickhouse', 'redis']
        : ['kafka', 'clickhouse'];
      for (const dep of needs)
        expect(s.depends_on?.[dep]?.condition, `${name} → ${dep}`).toBe('service_healthy');
    }
    // Named volumes used by services are declared.
    for (const [, s] of Object.entries(compose.services))
      for (const v of s.volumes ?? []) {
        const source = v.split(':')[0]!;
        if (!source.startsWith('.')) expect(compose.volumes, source).toHaveProperty(source);
      }
  });

  it('provisions Grafana with the ClickHouse plugin, the data source and the dashboards, from files that exist', () => {
    const grafana = compose.services.grafana!;
    const env = envOf(grafana);
    // The plugin release the dashboards' targets are written for, installed before provisioning.
    expect(env.GF_PLUGINS_PREINSTALL_SYNC).toBe(`${CLICKHOUSE_PLUGIN}@${CLICKHOUSE_PLUGIN_VERSION}`);
    // Grafana starts behind the wrapper that gives the data source its defaults.
    expect(grafana.entrypoint).toEqual(['/bin/sh', '/etc/grafana/vigil-env.sh', '/run.sh']);
    expect(grafana.volumes).toContain(
      './dashboards/provisioning/grafana-env.sh:/etc/grafana/vigil-env.sh:ro',
    );
    expect(compose.services[env.VIGIL_GRAFANA_CLICKHOUSE_HOST!]).toBeDefined();
    expect(env.VIGIL_GRAFANA_CLICKHOUSE_PORT).toBe('8123');
    for (const v of grafana.volumes ?? []) {
      const source = v.split(':')[0]!;
      if (source.startsWith('.')) expect(existsSync(path.join(REPO, source)), source).toBe(true);
    }
    // The data source reads every variable it uses from Grafana's environment.
    const datasource = readFileSync(path.join(REPO, 'dashboards/provisioning/datasources/vigil.yaml'), 'utf8')
      .split('\n')
      .filter((line) => !line.trim().startsWith('#'))
      .join('\n');
    for (const m of datasource.matchAll(/\$\{([A-Z0-9_]+)\}/g))
      expect(Object.keys(env), m[1]).toContain(m[1]);
    // ClickHouse gets the read-only user the data source logs in as.
    const clickhouse = compose.services.clickhouse!;
    expect(clickhouse.volumes?.some((v) => v.includes('grafana-user.xml'))).toBe(true);
    const user = readFileSync(path.join(REPO, 'dashboards/provisioning/clickhouse/grafana-user.xml'), 'utf8');
    expect(user).toContain(`<${env.VIGIL_GRAFANA_CLICKHOUSE_USER}>`);
    expect(user).toContain('<readonly>1</readonly>');
    expect(Object.keys(envOf(clickhouse))).toContain(/from_env="([A-Z_]+)"/.exec(user)![1]);
  });

  it('builds vigil with an image that declares the data directory and the ports it serves', () => {
    const dockerfile = readFileSync(path.join(REPO, 'Dockerfile'), 'utf8');
    const defaults = loadConfig({});
    for (const port of [defaults.env.VIGIL_COLLECTOR_PORT, defaults.env.VIGIL_ADMIN_PORT])
      expect(dockerfile).toMatch(new RegExp(`EXPOSE .*\\b${port}\\b`));
    expect(dockerfile).toContain('ENV VIGIL_DATA_DIR=/var/lib/vigil');
    expect(dockerfile).toMatch(/^USER node$/m);
  });
});

// Grafana expands ${VAR} in provisioning files with Go's os.ExpandEnv (grafana/grafana
// pkg/services/provisioning/values/values.go): no defaults, an unset variable is "". The plugin
// reads a string jsonData.port with strconv.ParseInt and jsonData.secure with strconv.ParseBool
// (grafana/clickhouse-datasource@1d04063a31fb30f9582cd0b3aeaacb7d350b0dcf pkg/plugin/settings.go),
// so "" breaks the data source. dashboards/provisioning/grafana-env.sh supplies the defaults.
describe('Grafana data source provisioning', () => {
  const WRAPPER = path.join(REPO, 'dashboards/provisioning/grafana-env.sh');
  const REQUIRED = {
    VIGIL_GRAFANA_CLICKHOUSE_HOST: 'clickhouse',
    VIGIL_GRAFANA_CLICKHOUSE_USER: 'grafana',
    VIGIL_GRAFANA_CLICKHOUSE_PASSWORD: 'test-password',
  };

  /** Grafana's environment after the wrapper, or its refusal. */
  function startGrafana(env: Record<string, string>) {
    const r = spawnSync('sh', [WRAPPER, 'env'], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    });
    const vars = Object.fromEntries(
      r.stdout
        .toString()
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    return { status: r.status, stderr: r.stderr.toString(), vars };
  }

  /** jsonData as Grafana hands it to the plugin: the YAML parsed, then strings through os.ExpandEnv. */
  function jsonDataWith(vars: Record<string, string>): Record<string, unknown> {
    const file = parseYaml(
      readFileSync(path.join(REPO, 'dashboards/provisioning/datasources/vigil.yaml'), 'utf8'),
    ) as {
      datasources: Array<{ jsonData: Record<string, unknown> }>;
    };
    const expand = (v: unknown) =>
      typeof v === 'string'
        ? v.replace(
            /\$\{([A-Za-z0-9_]+)\}|\$([A-Za-z0-9_]+)/g,
            (_a, b?: string, p?: string) => vars[(b ?? p)!] ?? '',
          )
        : v;
    return Object.fromEntries(Object.entries(file.datasources[0]!.jsonData).map(([k, v]) => [k, expand(v)]));
  }

  /** What strconv.ParseInt(s, 0, 64) / strconv.ParseBool accept for these two fields. */
  const parsesAsPort = (v: unknown) =>
    typeof v === 'string' && /^[1-9][0-9]{0,4}$/.test(v) && Number(v) <= 65535;
  const parsesAsBool = (v: unknown) =>
    typeof v === 'string' &&
    ['1', 't', 'T', 'TRUE', 'true', 'True', '0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v);

  it('the data source reads port and secure from the environment', () => {
    const raw = jsonDataWith({});
    expect(raw.port).toBe('');
    expect(raw.secure).toBe('');
  });

  it.each([
    ['unset', {}],
    ['empty', { VIGIL_GRAFANA_CLICKHOUSE_PORT: '', VIGIL_GRAFANA_CLICKHOUSE_SECURE: '' }],
  ])('port and secure %s: Grafana starts with 8123 and false, which the plugin parses', (_case, extra) => {
    const g = startGrafana({ ...REQUIRED, ...extra });
    expect(g.status, g.stderr).toBe(0);
    const jsonData = jsonDataWith(g.vars);
    expect({ port: jsonData.port, secure: jsonData.secure, path: jsonData.path }).toEqual({
      port: '8123',
      secure: 'false',
      path: '',
    });
    expect(parsesAsPort(jsonData.port)).toBe(true);
    expect(parsesAsBool(jsonData.secure)).toBe(true);
  });

  it('keeps the values it is given (vigil admin port, TLS)', () => {
    const g = startGrafana({
      ...REQUIRED,
      VIGIL_GRAFANA_CLICKHOUSE_PORT: '8089',
      VIGIL_GRAFANA_CLICKHOUSE_SECURE: 'true',
      VIGIL_GRAFANA_CLICKHOUSE_PATH: '/clickhouse',
    });
    expect(g.status, g.stderr).toBe(0);
    expect(jsonDataWith(g.vars)).toMatchObject({ port: '8089', secure: 'true', path: '/clickhouse' });
  });

  it.each([
    ['VIGIL_GRAFANA_CLICKHOUSE_PORT', 'http'],
    ['VIGIL_GRAFANA_CLICKHOUSE_PORT', '0'],
    ['VIGIL_GRAFANA_CLICKHOUSE_PORT', '65536'],
    ['VIGIL_GRAFANA_CLICKHOUSE_PORT', '99999999999999999999999'],
    ['VIGIL_GRAFANA_CLICKHOUSE_PORT', '-1'],
    ['VIGIL_GRAFANA_CLICKHOUSE_SECURE', 'yes'],
    ['VIGIL_GRAFANA_CLICKHOUSE_PATH', 'clickhouse'],
  ])('refuses to start on %s=%s, naming the variable and not echoing the value', (name, value) => {
    const g = startGrafana({ ...REQUIRED, [name]: value });
    expect(g.status).not.toBe(0);
    expect(g.vars).toEqual({});
    expect(g.stderr).toContain(name);
    expect(g.stderr).not.toContain(`=${value}`);
    expect(g.stderr).not.toContain(` ${value} `);
  });

  it.each(Object.keys(REQUIRED))('refuses to start without %s', (name) => {
    const g = startGrafana({ ...REQUIRED, [name]: '' });
    expect(g.status).not.toBe(0);
    expect(g.stderr).toContain(name);
  });
});
