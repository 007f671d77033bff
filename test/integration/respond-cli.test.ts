// The responder's admin API and CLI as people use them (the built `vigil` in child processes,
// against a running vigil, then against its store once it stopped): `policy test`, `actions`
// and the dead-letter view, `incidents ack|approve|resolve` with role checks, `contain undo`,
// and the kill switch.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeJson, partitionKey, TOPICS } from '../../src/bus/index.js';
import type { Action, Finding, Incident } from '../../src/model/index.js';
import {
  type FakeTarget,
  startFakeSlack,
  startFakeWeaviate,
  type WeaviateState,
} from '../helpers/containment-targets.js';
import { VIGIL_BIN } from '../helpers/child.js';
import { makeFinding } from '../helpers/factories.js';
import { tempDataDir, uniqueName } from '../helpers/services.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';
import { waitFor } from '../helpers/wait.js';

const run = promisify(execFile);
const ADMIN = `adm-${uniqueName('t')}`;
const ANALYST = `ana-${uniqueName('t')}`;

describe('responder CLI and admin API', () => {
  let v: TestVigil;
  let weaviate: FakeTarget<WeaviateState>;
  let slack: FakeTarget<{ messages: string[] }>;
  let cliEnv: Record<string, string>;
  const dir = tempDataDir();
  const pipeline = path.join(dir, 'pipeline.yaml');
  const tenant = uniqueName('t-cli');
  let findings: Finding[] = [];

  const vigil = async (args: string[]) => {
    try {
      const r = await run(process.execPath, [VIGIL_BIN, ...args], {
        env: { ...process.env, ...cliEnv },
        timeout: 60_000,
      });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  };
  const api = (route: string, token: string, method = 'POST', body?: unknown) =>
    fetch(`${v.app.adminUrl}${route}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? (method === 'POST' ? '{}' : undefined) : JSON.stringify(body),
    });

  beforeAll(async () => {
    [weaviate, slack] = await Promise.all([startFakeWeaviate(), startFakeSlack()]);
    writeFileSync(
      pipeline,
      `version: 1
response:
  incident_min_score: 0.7
  actions: []
  targets:
    wv: { type: weaviate }
    gone: { type: webhook, url_env: GONE_URL, secret_env: GONE_SECRET }
  policies:
    - name: needs-approval
      match: { min_severity: high }
      actions:
        - { target: wv, mode: approval }
        - { target: gone }
`,
    );
    const env = {
      VIGIL_PIPELINE: pipeline,
      VIGIL_VAULT_ENABLED: 'true',
      VIGIL_WEAVIATE_URL: weaviate.url,
      VIGIL_WEAVIATE_API_KEY: 'wv-admin',
      GONE_URL: `${slack.url}/services/archived`,
      GONE_SECRET: `whsec_${Buffer.alloc(32, 5).toString('base64')}`,
      VIGIL_ADMIN_TOKEN: ADMIN,
      VIGIL_ANALYST_TOKEN: ANALYST,
    };
    v = await startTestVigil({ dataDir: dir, env });
    cliEnv = {
      ...env,
      KAFKA_BROKERS: '',
      REDIS_URL: '',
      CLICKHOUSE_URL: '',
      VIGIL_DATA_DIR: dir,
      VIGIL_HOST: '127.0.0.1',
      VIGIL_ADMIN_PORT: new URL(v.app.adminUrl).port,
      VIGIL_LOG_LEVEL: 'warn',
    };
    // Two service identities, tokenized at the edge as events would be (which fills the vault).
    findings = ['svc-cli-one', 'svc-cli-two'].map((raw) => {
      const actor = v.app.tokenizer.token('actor', tenant, raw, 'service');
      weaviate.state.users.set(raw, { active: true, key: 'k' });
      return makeFinding({ tenant, actor, entity: actor, severity: 'critical' });
    });
    // One after the other: the responder runs a batch's jobs concurrently, and deliveries already
    // in flight when the endpoint first answers 410 fail too; the ones after it are skipped.
    for (const [i, f] of findings.entries()) {
      await v.app.bus.publish(TOPICS.findings, [
        { key: partitionKey(f.tenant, f.actor), value: encodeJson(f) },
      ]);
      if (i === 0)
        await waitFor(
          () => actions(),
          (a) => a.some((x) => x.kind === 'webhook' && x.outcome === 'failed'),
          { what: 'the first webhook answered 410' },
        );
    }
  });
  afterAll(async () => {
    await v?.stop();
    await Promise.all([weaviate?.close(), slack?.close()]);
  });

  const actions = async (...extra: string[]) => {
    const r = await vigil(['actions', '--format', 'json', '--tenant', tenant, ...extra]);
    expect(r.stderr).toBe('');
    return JSON.parse(r.stdout) as Action[];
  };

  it('lists held and failed actions, with the dead-letter view', async () => {
    const rows = await waitFor(
      () => actions(),
      (a) =>
        a.filter((x) => x.outcome === 'awaiting_approval').length === 2 &&
        a.some((x) => x.outcome === 'skipped'),
      { what: 'two held actions, a failed and a skipped webhook' },
    );
    // The endpoint answered 410 Gone once: it is disabled, the second delivery is not attempted.
    const hooks = rows.filter((a) => a.kind === 'webhook');
    expect(hooks.map((a) => a.outcome).sort()).toEqual(['failed', 'skipped']);
    expect(hooks.find((a) => a.outcome === 'skipped')!.error).toBe('endpoint disabled after 410 Gone');
    expect(rows.filter((a) => a.outcome === 'awaiting_approval').every((a) => a.kind === 'weaviate')).toBe(
      true,
    );
    const dead = await actions('--failed');
    expect(dead.map((a) => a.kind)).toEqual(['webhook']);
    expect(dead[0]!.error).toContain('410');
    const viaApi = (await (
      await api(`/v1/actions?failed=1&tenant=${tenant}`, ANALYST, 'GET')
    ).json()) as Action[];
    expect(viaApi.map((a) => a.job_id).sort()).toEqual(dead.map((a) => a.job_id).sort());
    expect(weaviate.requests).toHaveLength(0);
  });

  it('shows what a finding would do (policy test), without side effects', async () => {
    const file = path.join(dir, 'finding.json');
    writeFileSync(file, JSON.stringify(findings[0]));
    const before = weaviate.requests.length;
    const r = await vigil(['policy', 'test', '--finding', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('rules that fire:\n  + needs-approval: severity critical ≥ high');
    expect(r.stdout).toContain('wv (weaviate, approval): awaits approval, then: POST /v1/users/db/<');
    const json = JSON.parse((await vigil(['policy', 'test', '--finding', file, '--format', 'json'])).stdout);
    expect(json[0].would.map((w: { target: string }) => w.target)).toEqual(['wv', 'gone']);
    expect(weaviate.requests.length).toBe(before);
    const bad = await vigil(['policy', 'test', '--finding', pipeline]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--finding');
  });

  it('acknowledges, approves (admin only), undoes and resolves an incident', async () => {
    const incidents = JSON.parse(
      (await vigil(['incidents', '--format', 'json', '--tenant', tenant])).stdout,
    ) as Incident[];
    const incident = incidents.find((i) => i.actor === findings[0]!.actor)!;
    const ack = await vigil(['incidents', 'ack', incident.incident_id]);
    expect(ack.stdout).toMatch(
      new RegExp(`^${incident.incident_id}: acknowledged by admin:[0-9a-f]{12} at `),
    );

    // Analysts may acknowledge and read, not approve.
    expect((await api(`/v1/incidents/${incident.incident_id}/approve`, ANALYST)).status).toBe(403);
    expect((await api(`/v1/incidents/${incident.incident_id}/ack`, ANALYST)).status).toBe(409);

    const approve = await vigil(['incidents', 'approve', incident.incident_id]);
    expect(approve.stdout).toContain('approved 1 action(s)');
    await waitFor(
      () => weaviate.state.users.get('svc-cli-one')!.active,
      (active) => !active,
      { what: 'deactivated after approval' },
    );
    const contained = await waitFor(
      () =>
        vigil(['incidents', '--format', 'json', '--tenant', tenant]).then(
          (r) => JSON.parse(r.stdout) as Incident[],
        ),
      (rows) => rows.find((i) => i.incident_id === incident.incident_id)?.status === 'contained',
      { what: 'incident contained' },
    );
    expect(contained.find((i) => i.incident_id === incident.incident_id)!.updated_by).toBe('responder');

    const done = (await actions()).find((a) => a.job_id.endsWith('-approved') && a.outcome === 'succeeded')!;
    const undo = await vigil(['contain', 'undo', done.action_id]);
    expect(undo.stdout).toContain('user activated; new API key issued to the caller');
    const key = weaviate.state.users.get('svc-cli-one')!.key;
    expect(undo.stdout).toContain(`new credential: ${key}`);
    expect(weaviate.state.users.get('svc-cli-one')!.active).toBe(true);
    const again = await vigil(['contain', 'undo', done.action_id]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('already undone');

    const resolved = await vigil(['incidents', 'resolve', incident.incident_id]);
    expect(resolved.stdout).toContain(': resolved by admin:');
    const audit = (await (await api('/v1/audit', ADMIN, 'GET')).json()) as Array<{
      action: string;
      outcome: string;
    }>;
    const trail = audit.map((a) => `${a.action}:${a.outcome}`);
    for (const step of [
      'incident.ack:acknowledged',
      'incident.approve:approved',
      'reidentify:revealed',
      'contain.weaviate:succeeded',
      'undo.weaviate:undone',
      'incident.resolve:resolved',
    ])
      expect(trail).toContain(step);
  });

  it('flips the kill switch (admin only) and shows it', async () => {
    expect((await api('/v1/responder/kill-switch', ANALYST, 'POST', { on: true })).status).toBe(403);
    expect((await api('/v1/responder/kill-switch', ADMIN, 'POST', { on: 'yes' })).status).toBe(400);
    expect((await vigil(['responder', 'kill-switch', 'on'])).stdout).toBe('kill switch on\n');
    expect((await vigil(['responder', 'kill-switch'])).stdout).toBe('kill switch on\n');
    expect((await vigil(['responder', 'kill-switch', 'off'])).stdout).toBe('kill switch off\n');
  });

  it('changes incidents in the store itself when no vigil runs; approving needs one', async () => {
    const second = findings[1]!;
    await v.stop();
    const rows = JSON.parse(
      (await vigil(['incidents', '--format', 'json', '--tenant', tenant])).stdout,
    ) as Incident[];
    const open = rows.find((i) => i.actor === second.actor)!;
    expect(open.status).toBe('open');
    const approve = await vigil(['incidents', 'approve', open.incident_id]);
    expect(approve.code).not.toBe(0);
    expect(approve.stderr).toContain('needs the running vigil');
    const resolve = await vigil(['incidents', 'resolve', open.incident_id]);
    expect(resolve.stdout).toMatch(/: resolved by cli:/);
    const after = JSON.parse(
      (await vigil(['incidents', '--format', 'json', '--tenant', tenant])).stdout,
    ) as Incident[];
    expect(after.find((i) => i.incident_id === open.incident_id)!.status).toBe('resolved');
    expect((await actions('--failed')).length).toBe(1);
  });
});
