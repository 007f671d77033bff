// The responder end to end in one process: findings → policy → guardrails → adapters (local
// Weaviate, Milvus and Slack stand-ins) → recorded attempts; and the controls people use
// (approve, undo, acknowledge, resolve, kill switch).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ResponseConfig, responseSchema } from '../../../src/config/index.js';
import type { Action, Finding, Incident } from '../../../src/model/index.js';
import {
  type ActionQueue,
  type AuditEntry,
  createInProcessQueue,
  createIncidentBook,
  createMemoryKillSwitch,
  createResponder,
  createResponderControl,
  type IncidentBook,
  type KillSwitch,
  type Responder,
  type ResponderControl,
  resolveTargets,
} from '../../../src/respond/index.js';
import type { ActionJob } from '../../../src/respond/jobs.js';
import { createLogger, createMetrics } from '../../../src/telemetry/index.js';
import {
  type FakeTarget,
  type MilvusState,
  startFakeMilvus,
  startFakeSlack,
  startFakeWeaviate,
  type WeaviateState,
} from '../../helpers/containment-targets.js';
import { makeFinding } from '../../helpers/factories.js';
import { waitFor } from '../../helpers/wait.js';

const token = (n: number | string) => `usr_k1_${String(n).padStart(22, '0')}`;
const rawOf = (t: string) => `db-user-${t.slice(-4)}`;

let weaviate: FakeTarget<WeaviateState>;
let milvus: FakeTarget<MilvusState>;
let slack: FakeTarget<{ messages: string[] }>;

beforeAll(async () => {
  [weaviate, milvus, slack] = await Promise.all([startFakeWeaviate(), startFakeMilvus(), startFakeSlack()]);
});
afterAll(async () => Promise.all([weaviate.close(), milvus.close(), slack.close()]));

interface Harness {
  responder: Responder;
  control: ResponderControl;
  queue: ActionQueue;
  book: IncidentBook;
  killSwitch: KillSwitch;
  attempts: Action[];
  incidents: Incident[];
  audits: AuditEntry[];
  alerts: Finding[];
  reveals: string[];
  findings: Map<string, Finding>;
  /** Latest attempt of each job. */
  latest(): Map<string, Action>;
}

let current: Harness | undefined;
afterEach(async () => {
  await current?.queue.close();
  current = undefined;
  weaviate.requests.length = 0;
  slack.state.messages.length = 0;
});

function setup(
  response: Record<string, unknown>,
  opts: { vault?: boolean; env?: Record<string, string>; raw?: (t: string) => string } = {},
): Harness {
  const config: ResponseConfig = responseSchema.parse({
    incident_min_score: 0.7,
    ...response,
    targets: {
      wv: { type: 'weaviate', timeout: '2s' },
      mv: { type: 'milvus', timeout: '2s' },
      chat: { type: 'slack' },
      gone: { type: 'webhook', url_env: 'GONE_URL', secret_env: 'GONE_SECRET' },
      unset: { type: 'hoop' },
      ...((response.targets as object | undefined) ?? {}),
    },
  });
  const env = {
    VIGIL_WEAVIATE_URL: weaviate.url,
    VIGIL_WEAVIATE_API_KEY: 'wv-admin',
    VIGIL_MILVUS_URL: milvus.url,
    VIGIL_MILVUS_TOKEN: 'root:Milvus',
    VIGIL_SLACK_WEBHOOK_URL: `${slack.url}/services/T000/B000/XXXX`,
    GONE_URL: `${slack.url}/services/archived`,
    GONE_SECRET: `whsec_${Buffer.alloc(32, 9).toString('base64')}`,
    ...opts.env,
  };
  const { targets, unavailable } = resolveTargets(config, env);
  const queue = createInProcessQueue({ maxAttempts: 3, backoffBaseMs: 10 });
  const book = createIncidentBook(config.incident_group_window);
  const killSwitch = createMemoryKillSwitch(false);
  const h = {
    attempts: [] as Action[],
    incidents: [] as Incident[],
    audits: [] as AuditEntry[],
    alerts: [] as Finding[],
    reveals: [] as string[],
    findings: new Map<string, Finding>(),
  };
  const reveal = async (t: string) => {
    h.reveals.push(t);
    return opts.vault === false ? undefined : (opts.raw ?? rawOf)(t);
  };
  const latest = () => {
    const m = new Map<string, Action>();
    for (const a of h.attempts) m.set(a.job_id, a);
    return m;
  };
  const common = {
    saveIncident: async (i: Incident) => void h.incidents.push(i),
    recordAttempt: async (a: Action) => void h.attempts.push(a),
    audit: async (e: AuditEntry) => void h.audits.push(e),
  };
  const responder = createResponder({
    config,
    queue,
    book,
    ...common,
    alreadySucceeded: async (id) => h.attempts.some((a) => a.job_id === id && a.outcome === 'succeeded'),
    webhookTargets: [],
    targets,
    unavailableTargets: unavailable,
    reveal,
    raiseAlert: async (f) => void h.alerts.push(f),
    killSwitch,
    logger: createLogger('silent'),
    metrics: createMetrics(),
  });
  const control = createResponderControl({
    book,
    queue,
    targets,
    killSwitch,
    reveal,
    ...common,
    findIncident: async (id) => h.incidents.filter((i) => i.incident_id === id).at(-1),
    findFinding: async (id) => h.findings.get(id),
    findAction: async (id) =>
      h.attempts.find((a) => a.action_id === id) ?? h.attempts.filter((a) => a.job_id === id).at(-1),
    awaitingApproval: async (incidentId) =>
      [...latest().values()].filter(
        (a) =>
          a.incident_id === incidentId &&
          a.outcome === 'awaiting_approval' &&
          !h.attempts.some((b) => b.job_id === `${a.job_id}-approved`),
      ),
    auditReason: async (action, target, outcome) =>
      h.audits.filter((e) => e.action === action && e.target === target && e.outcome === outcome).at(-1)
        ?.reason,
  });
  current = { ...h, responder, control, queue, book, killSwitch, latest };
  return current;
}

async function run(h: Harness, findings: Finding[]): Promise<void> {
  for (const f of findings) h.findings.set(f.finding_id, f);
  await h.queue.start(h.responder.process);
  await h.responder.handleFindings(findings);
  await waitFor(
    () => h.queue.pending(),
    (n) => n === 0,
    { what: 'queue drained', timeoutMs: 10_000 },
  );
}

const contain = (target: string, mode = 'enforce', extra: Record<string, unknown> = {}) => ({
  policies: [
    {
      name: 'contain',
      match: { min_severity: 'high', ...extra },
      actions: [{ target, mode }, { target: 'chat' }],
    },
  ],
});

function seedWeaviate(t: string) {
  weaviate.state.users.set(rawOf(t), { active: true, key: 'k' });
}

describe('containment through a policy', () => {
  it('re-identifies the subject, deactivates it, records and audits, and marks the incident contained', async () => {
    const h = setup(contain('wv'));
    const actor = token(1);
    seedWeaviate(actor);
    await run(h, [makeFinding({ actor, entity: actor })]);
    expect(weaviate.state.users.get(rawOf(actor))!.active).toBe(false);
    const rows = [...h.latest().values()];
    const wv = rows.find((a) => a.kind === 'weaviate')!;
    expect(wv).toMatchObject({
      outcome: 'succeeded',
      confirmation: 'confirmed',
      mode: 'enforce',
      target: `wv:${actor}`,
    });
    // Notifications carry no confirmation: only a containment's effect is read back.
    expect(rows.find((a) => a.kind === 'slack')!.confirmation).toBeUndefined();
    expect(wv.job_id).toBe(`${h.incidents[0]!.incident_id}-wv-enforce`);
    expect(rows.find((a) => a.kind === 'slack')!.outcome).toBe('succeeded');
    expect(slack.state.messages).toHaveLength(1);
    expect(h.reveals).toEqual([actor]);
    expect(h.audits.find((e) => e.action === 'contain.weaviate')).toMatchObject({
      caller: 'responder',
      target: wv.job_id,
      outcome: 'succeeded',
    });
    expect(JSON.parse(h.audits.find((e) => e.action === 'contain.weaviate')!.reason)).toMatchObject({
      confirmation: 'confirmed',
    });
    expect(h.incidents.at(-1)).toMatchObject({ status: 'contained', updated_by: 'responder' });
    // The raw identifier is in no row.
    expect(JSON.stringify(h.attempts) + JSON.stringify(h.audits)).not.toContain(rawOf(actor));
  });

  it('keeps the raw identifier out of error messages', async () => {
    const h = setup(contain('wv'));
    const actor = token(2); // no such Weaviate user: its 404 body names the raw user
    await run(h, [makeFinding({ actor, entity: actor })]);
    const row = [...h.latest().values()].find((a) => a.kind === 'weaviate')!;
    expect(row.outcome).toBe('failed');
    expect(row.error).toContain('404');
    expect(row.error).toContain(`<${actor}>`);
    expect(row.error).not.toContain(rawOf(actor));
  });

  it('fails permanently without a vault entry', async () => {
    const h = setup(contain('wv'), { vault: false });
    await run(h, [makeFinding({ actor: token(3), entity: token(3) })]);
    const row = [...h.latest().values()].find((a) => a.kind === 'weaviate')!;
    expect(row).toMatchObject({ outcome: 'failed', attempt: 1 });
    expect(row.error).toContain('VIGIL_VAULT_ENABLED');
  });

  it('records a target whose env is unset as skipped, naming the variables', async () => {
    const h = setup(contain('unset'));
    await run(h, [makeFinding({ actor: token(4), entity: token(4) })]);
    const row = [...h.latest().values()].find((a) => a.kind === 'hoop')!;
    expect(row.outcome).toBe('skipped');
    expect(row.error).toContain('VIGIL_HOOP_API_URL, VIGIL_HOOP_ADMIN_TOKEN not set');
  });

  it('escalates instead of containing what must not be contained automatically (Milvus root)', async () => {
    const actor = token(5);
    const h = setup(contain('mv'), { raw: (t) => (t === actor ? 'root' : rawOf(t)) });
    milvus.state.users.set('root', ['admin']);
    await run(h, [makeFinding({ actor, entity: actor })]);
    const row = [...h.latest().values()].find((a) => a.kind === 'milvus')!;
    // The raw name is scrubbed from the detail like any other message.
    expect(row).toMatchObject({ outcome: 'escalated', error: `<${actor}> is never contained automatically` });
    expect(milvus.state.users.get('root')).toEqual(['admin']);
    expect(h.alerts).toHaveLength(1);
    expect(h.alerts[0]).toMatchObject({ detector: 'responder.escalation', actor, severity: 'critical' });
    expect(h.incidents.at(-1)!.status).toBe('open');
  });

  it('answers 200 with a non-zero Milvus code as a failure', async () => {
    const h = setup(contain('mv'));
    await run(h, [makeFinding({ actor: token(6), entity: token(6) })]);
    const row = [...h.latest().values()].find((a) => a.kind === 'milvus')!;
    expect(row.outcome).toBe('failed');
    expect(row.error).toContain('code 65535');
    expect(row.error).not.toContain(rawOf(token(6)));
  });
});

describe('suppressed findings', () => {
  it('are never acted on and open no incident', async () => {
    const h = setup(contain('wv'));
    const actor = token(7);
    seedWeaviate(actor);
    await run(h, [{ ...makeFinding({ actor, entity: actor }), suppressed: 'rule: load test' }]);
    expect(h.incidents).toEqual([]);
    expect(h.attempts).toEqual([]);
    expect(weaviate.requests).toHaveLength(0);
  });
});

describe('guardrails in the responder', () => {
  it('dry-run records what would have happened, with the token, and touches nothing', async () => {
    const h = setup(contain('wv', 'dry-run'));
    const actor = token(10);
    seedWeaviate(actor);
    await run(h, [makeFinding({ actor, entity: actor })]);
    const row = [...h.latest().values()].find((a) => a.kind === 'weaviate')!;
    expect(row).toMatchObject({ outcome: 'dry_run', mode: 'dry-run' });
    expect(row.error).toBe(`would POST /v1/users/db/<${actor}>/deactivate {"revoke_key": true}`);
    expect(weaviate.requests).toHaveLength(0);
    expect(h.reveals).toEqual([]);
    expect(h.incidents.at(-1)!.status).toBe('open');
  });

  it('the kill switch turns enforce into dry-run for containment; notifications still go out', async () => {
    const h = setup(contain('wv'));
    await h.killSwitch.set(true);
    const actor = token(11);
    seedWeaviate(actor);
    await run(h, [makeFinding({ actor, entity: actor })]);
    const rows = [...h.latest().values()];
    expect(rows.find((a) => a.kind === 'weaviate')).toMatchObject({ outcome: 'dry_run' });
    expect(rows.find((a) => a.kind === 'weaviate')!.error).toMatch(/^kill switch on; would POST/);
    expect(rows.find((a) => a.kind === 'slack')!.outcome).toBe('succeeded');
    expect(weaviate.state.users.get(rawOf(actor))!.active).toBe(true);
  });

  it('never contains an allowlisted token or label', async () => {
    const actor = token(12);
    const labelled = token(13);
    const h = setup({
      ...contain('wv'),
      labels: { [labelled]: ['break-glass'] },
      guardrails: { never_contain: { tokens: [actor], labels: ['break-glass'] } },
    });
    seedWeaviate(actor);
    seedWeaviate(labelled);
    await run(h, [makeFinding({ actor, entity: actor }), makeFinding({ actor: labelled, entity: labelled })]);
    const rows = [...h.latest().values()].filter((a) => a.kind === 'weaviate');
    expect(rows.map((r) => r.error).sort()).toEqual(
      [`never-contain allowlist: ${actor}`, 'never-contain allowlist: label break-glass'].sort(),
    );
    expect(rows.every((r) => r.outcome === 'skipped')).toBe(true);
    expect(weaviate.requests).toHaveLength(0);
  });

  it('holds containments beyond the blast radius for approval when 50 identities trip at once', async () => {
    const h = setup({
      ...contain('wv'),
      guardrails: { blast_radius: { max_containments: 5, window: '1h' } },
    });
    const actors = Array.from({ length: 50 }, (_, i) => token(100 + i));
    for (const a of actors) seedWeaviate(a);
    await run(
      h,
      actors.map((a) => makeFinding({ actor: a, entity: a })),
    );
    const rows = [...h.latest().values()].filter((a) => a.kind === 'weaviate');
    expect(rows).toHaveLength(50);
    expect(rows.filter((r) => r.outcome === 'succeeded')).toHaveLength(5);
    const held = rows.filter((r) => r.outcome === 'awaiting_approval');
    expect(held).toHaveLength(45);
    expect(held[0]!.error).toMatch(
      /^blast radius: \d+ containments in tenant t-test within the window exceed 5: vigil incidents approve /,
    );
    expect([...weaviate.state.users.values()].filter((u) => !u.active).length).toBeGreaterThanOrEqual(5);
    expect(weaviate.requests.filter((r) => r.url.endsWith('/deactivate'))).toHaveLength(5);
    // One record per tenant and window says why, re-issued with the growing count.
    expect(new Set(h.alerts.map((a) => a.finding_id)).size).toBe(1);
    expect(h.alerts.at(-1)!.detector).toBe('responder.blast-radius');
    expect(Math.max(...h.alerts.map((a) => a.observed))).toBeGreaterThan(5);

    // An analyst approves one held incident: it runs, beyond the limit.
    const incidentId = held[0]!.incident_id;
    const approved = await h.control.approve(incidentId, 'admin:abc');
    expect(approved).toEqual({ ok: true, value: { approved: [`${held[0]!.job_id}-approved`] } });
    await waitFor(
      () => h.latest().get(`${held[0]!.job_id}-approved`)?.outcome,
      (o) => o === 'succeeded',
      { what: 'approved job succeeded' },
    );
    expect(h.audits.find((e) => e.action === 'incident.approve')).toMatchObject({
      caller: 'admin:abc',
      target: incidentId,
    });
    expect(await h.control.approve(incidentId, 'admin:abc')).toMatchObject({ ok: false, status: 409 });
  });

  it('approval mode waits for a person, then runs', async () => {
    const h = setup(contain('wv', 'approval'));
    const actor = token(14);
    seedWeaviate(actor);
    await run(h, [makeFinding({ actor, entity: actor })]);
    const row = [...h.latest().values()].find((a) => a.kind === 'weaviate')!;
    expect(row.outcome).toBe('awaiting_approval');
    expect(row.error).toContain('policy contain asks for approval to POST /v1/users/db/');
    expect(weaviate.state.users.get(rawOf(actor))!.active).toBe(true);
    const r = await h.control.approve(row.incident_id, 'admin:1');
    expect(r.ok).toBe(true);
    await waitFor(
      () => weaviate.state.users.get(rawOf(actor))!.active,
      (active) => !active,
      { what: 'deactivated after approval' },
    );
  });
});

describe('webhook endpoint that answers 410 Gone', () => {
  it('is disabled, recorded, and not called again', async () => {
    const h = setup({ policies: [{ name: 'notify', actions: [{ target: 'gone' }] }] });
    await run(h, [makeFinding({ actor: token(20), entity: token(20) })]);
    expect([...h.latest().values()][0]).toMatchObject({ outcome: 'failed', attempt: 1 });
    expect(h.responder.disabledEndpoints.has('gone')).toBe(true);
    expect(h.audits.find((e) => e.action === 'webhook.disabled')).toMatchObject({
      target: 'gone',
      outcome: 'disabled',
    });
    const before = slack.requests.length;
    await run(h, [makeFinding({ actor: token(21), entity: token(21) })]);
    const second = [...h.latest().values()].find((a) => a.target.startsWith(`gone:${token(21)}`))!;
    expect(second).toMatchObject({ outcome: 'skipped', error: 'endpoint disabled after 410 Gone' });
    expect(slack.requests.length).toBe(before);
  });
});

describe('controls', () => {
  it('undoes a containment exactly once, handing back the new key, and reopens the incident to acknowledged', async () => {
    const h = setup(contain('wv'));
    const actor = token(30);
    seedWeaviate(actor);
    await run(h, [makeFinding({ actor, entity: actor })]);
    const row = [...h.latest().values()].find((a) => a.kind === 'weaviate')!;
    const r = await h.control.undo(row.action_id, 'admin:1');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.secret).toBe(weaviate.state.users.get(rawOf(actor))!.key);
    expect(weaviate.state.users.get(rawOf(actor))!.active).toBe(true);
    expect(h.latest().get(`${row.job_id}-undo`)).toMatchObject({ outcome: 'undone', kind: 'weaviate' });
    expect(JSON.stringify(h.attempts)).not.toContain(r.value.secret!);
    expect(h.incidents.at(-1)).toMatchObject({ status: 'acknowledged', updated_by: 'admin:1' });
    expect(await h.control.undo(row.action_id, 'admin:1')).toMatchObject({
      ok: false,
      error: 'already undone',
    });
  });

  it('refuses to undo what did not succeed or cannot be undone', async () => {
    const h = setup(contain('wv', 'dry-run'));
    const actor = token(31);
    await run(h, [makeFinding({ actor, entity: actor })]);
    const dry = [...h.latest().values()].find((a) => a.kind === 'weaviate')!;
    expect(await h.control.undo(dry.action_id, 'admin:1')).toMatchObject({ ok: false, status: 409 });
    const slackRow = [...h.latest().values()].find((a) => a.kind === 'slack')!;
    expect(await h.control.undo(slackRow.action_id, 'admin:1')).toMatchObject({
      ok: false,
      error: 'a slack action cannot be undone',
    });
    expect(await h.control.undo('nope', 'admin:1')).toMatchObject({ ok: false, status: 404 });
  });

  it('moves incidents open → acknowledged → resolved, with who and when, and refuses the rest', async () => {
    const h = setup({});
    await run(h, [makeFinding({ actor: token(40), entity: token(40) })]);
    const id = h.incidents[0]!.incident_id;
    const ack = await h.control.transition(id, 'acknowledged', 'analyst:1');
    expect(ack).toMatchObject({ ok: true, value: { status: 'acknowledged', updated_by: 'analyst:1' } });
    expect(await h.control.transition(id, 'acknowledged', 'analyst:1')).toMatchObject({
      ok: false,
      status: 409,
    });
    expect(await h.control.transition(id, 'resolved', 'analyst:2')).toMatchObject({
      ok: true,
      value: { status: 'resolved', updated_by: 'analyst:2' },
    });
    expect(h.book.get(id)).toBeUndefined();
    expect(await h.control.transition(id, 'acknowledged', 'analyst:1')).toMatchObject({
      ok: false,
      error: 'an incident that is resolved cannot become acknowledged',
    });
    expect(await h.control.transition('missing', 'resolved', 'x')).toMatchObject({ ok: false, status: 404 });
    expect(h.audits.map((e) => `${e.action}:${e.outcome}`)).toEqual([
      'incident.ack:acknowledged',
      'incident.ack:refused',
      'incident.resolve:resolved',
      'incident.ack:refused',
    ]);
    // A new finding of the same identity opens a new incident.
    await run(h, [makeFinding({ actor: token(40), entity: token(40) })]);
    expect(new Set(h.incidents.map((i) => i.incident_id)).size).toBe(2);
  });

  it('the kill switch is audited, and cannot be turned off when forced', async () => {
    const h = setup({});
    expect(await h.control.setKillSwitch(true, 'admin:1')).toEqual({
      ok: true,
      value: { on: true, forced: false },
    });
    expect(await h.control.killSwitch()).toEqual({ on: true, forced: false });
    expect(h.audits.at(-1)).toMatchObject({
      action: 'responder.kill-switch',
      outcome: 'on',
      caller: 'admin:1',
    });
  });
});

describe('a batch of findings', () => {
  it('stores its incidents together, and enqueues actions only once they are stored', async () => {
    // Saving incident by incident made each finding wait for the previous one's insert: under
    // load, findings queued in the responder for seconds before anything was contained.
    const config = responseSchema.parse({
      incident_min_score: 0.7,
      ...contain('chat'),
      targets: { chat: { type: 'slack' } },
    });
    const pendingSaves: Array<() => void> = [];
    const saved: Incident[] = [];
    const enqueued: ActionJob[] = [];
    const queue: ActionQueue = {
      kind: 'in-process',
      enqueue: async (job) => void enqueued.push(job),
      start: async () => {},
      pending: async () => 0,
      close: async () => {},
    };
    const responder = createResponder({
      config,
      queue,
      book: createIncidentBook(config.incident_group_window),
      saveIncident: (i) =>
        new Promise<void>((resolve) =>
          pendingSaves.push(() => {
            saved.push(i);
            resolve();
          }),
        ),
      recordAttempt: async () => {},
      alreadySucceeded: async () => false,
      webhookTargets: [],
      logger: createLogger('silent'),
      metrics: createMetrics(),
    });
    const findings = [1, 2, 3].map((n) => makeFinding({ actor: token(n), entity: token(n) }));
    const handled = responder.handleFindings(findings);
    // Every save is under way before the first one finished, and nothing is enqueued yet.
    await waitFor(
      () => pendingSaves.length,
      (n) => n === 3,
      { what: 'three incident saves in flight', timeoutMs: 2_000 },
    );
    expect(enqueued).toEqual([]);
    for (const release of pendingSaves) release();
    await handled;
    expect(saved.map((i) => i.actor)).toEqual(findings.map((f) => f.actor));
    expect(enqueued.map((j) => j.incident.actor).sort()).toEqual(findings.map((f) => f.actor).sort());
  });
});
