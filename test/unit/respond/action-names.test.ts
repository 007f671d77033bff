// response.actions entries are named, and queued jobs point at a name, never at a position in the
// list: a missing name (or a job from before names) is refused and recorded, never retargeted.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadPipeline, type ResponseConfig, responseSchema } from '../../../src/config/index.js';
import type { Action } from '../../../src/model/index.js';
import { createResponderControl } from '../../../src/respond/control.js';
import { createMemoryKillSwitch } from '../../../src/respond/guardrails.js';
import { createIncidentBook } from '../../../src/respond/incidents.js';
import { type ActionJob, type ActionQueue, actionJobId, routeOf } from '../../../src/respond/jobs.js';
import { createResponder } from '../../../src/respond/responder.js';
import { createLogger, createMetrics } from '../../../src/telemetry/index.js';
import { makeFinding } from '../../helpers/factories.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'vigil-action-names-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('response.actions names', () => {
  it('keeps an explicit name', () => {
    const r = responseSchema.parse({ actions: [{ type: 'webhook', name: 'open-incident' }] });
    expect(r.actions[0]!.name).toBe('open-incident');
  });

  it('derives a name from the kind and the URL variable when none is given', () => {
    const r = responseSchema.parse({
      actions: [{ type: 'webhook' }, { type: 'webhook', url_env: 'SOC_HOOK_URL' }],
    });
    expect(r.actions.map((a) => a.name)).toEqual(['webhook-vigil-webhook-url', 'webhook-soc-hook-url']);
  });

  it('derives the same names whatever the order of the list', () => {
    const a = { type: 'webhook', url_env: 'A_URL' };
    const b = { type: 'webhook', url_env: 'B_URL', mode: 'dry-run' };
    const one = responseSchema.parse({ actions: [a, b] }).actions;
    const other = responseSchema.parse({ actions: [b, a] }).actions;
    expect(new Set(one.map((x) => x.name))).toEqual(new Set(other.map((x) => x.name)));
    expect(other.find((x) => x.url_env === 'A_URL')!.name).toBe(one[0]!.name);
  });

  it('refuses two actions that end up with one name, naming the field', () => {
    const r = responseSchema.safeParse({
      actions: [{ type: 'webhook' }, { type: 'webhook', mode: 'dry-run' }],
    });
    expect(r.success).toBe(false);
    expect(r.error!.issues).toHaveLength(1);
    expect(r.error!.issues[0]!.path).toEqual(['actions', 1, 'name']);
    expect(r.error!.issues[0]!.message).toContain('duplicate action name "webhook-vigil-webhook-url"');
    expect(r.error!.issues[0]!.message).toContain('response.actions[0]');
  });

  it('refuses an explicit name equal to another action’s derived name', () => {
    const r = responseSchema.safeParse({
      actions: [
        { type: 'webhook', url_env: 'A_URL' },
        { type: 'webhook', name: 'webhook-a-url' },
      ],
    });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.path).toEqual(['actions', 1, 'name']);
  });

  it('accepts two actions on one URL when each has its own name', () => {
    const r = responseSchema.parse({
      actions: [
        { type: 'webhook', name: 'notify' },
        { type: 'webhook', name: 'notify-dry', mode: 'dry-run' },
      ],
    });
    expect(r.actions.map((a) => a.name)).toEqual(['notify', 'notify-dry']);
  });

  it('refuses a name that cannot be part of a job id', () => {
    const r = responseSchema.safeParse({ actions: [{ type: 'webhook', name: 'a:b' }] });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.path).toEqual(['actions', 0, 'name']);
  });

  it('refuses to start on a pipeline with a duplicate action name', () => {
    const file = path.join(tmp, 'dup.yaml');
    writeFileSync(
      file,
      [
        'version: 1',
        'response:',
        '  actions:',
        '    - { type: webhook, url_env: SOC_URL }',
        '    - { type: webhook, url_env: SOC_URL, mode: dry-run }',
        '',
      ].join('\n'),
    );
    expect(() => loadPipeline(file)).toThrow(ConfigError);
    expect(() => loadPipeline(file)).toThrow(
      /response\.actions\.1\.name: duplicate action name "webhook-soc-url"/,
    );
  });
});

describe('routeOf', () => {
  const base = { job_id: 'j', kind: 'webhook', mode: 'enforce', enqueued_time: 0 } as const;
  const job = (extra: Partial<ActionJob>) =>
    ({ ...base, incident: {}, finding: {}, ...extra }) as unknown as ActionJob;

  it('sends a policy job to its target, and a named action to its name', () => {
    expect(routeOf(job({ target: 'pg', action_index: -1 }))).toEqual({ to: 'policy', target: 'pg' });
    expect(routeOf(job({ action: 'notify' }))).toEqual({ to: 'action', name: 'notify' });
  });

  it('refuses a job that names its action by position only (queued by an older vigil)', () => {
    const r = routeOf(job({ action_index: 2 }));
    expect(r.to).toBe('refused');
    expect(r.to === 'refused' && r.reason).toContain('response.actions[2]');
  });

  it('refuses a job that names nothing', () => {
    expect(routeOf(job({})).to).toBe('refused');
  });
});

describe('responder with a changed response.actions', () => {
  function responderWith(actions: Array<{ name: string; url: string }>) {
    const jobs: ActionJob[] = [];
    const attempts: Action[] = [];
    const queue: ActionQueue = {
      kind: 'in-process',
      enqueue: async (j) => void jobs.push(j),
      start: async () => {},
      pending: async () => jobs.length,
      close: async () => {},
    };
    const config: ResponseConfig = responseSchema.parse({
      actions: actions.map((a) => ({
        type: 'webhook',
        mode: 'dry-run',
        name: a.name,
        url_env: a.name.toUpperCase().replaceAll('-', '_'),
      })),
    });
    const responder = createResponder({
      config,
      queue,
      book: createIncidentBook(3_600_000),
      saveIncident: async () => {},
      recordAttempt: async (a) => void attempts.push(a),
      alreadySucceeded: async () => false,
      webhookTargets: actions.map((a) => ({ url: a.url, secrets: ['s'], timeoutMs: 1_000 })),
      logger: createLogger('silent'),
      metrics: createMetrics(),
    });
    return { responder, jobs, attempts };
  }
  const incidentHook = { name: 'open-incident', url: 'https://incidents.example.test/hook' };
  const revokeHook = { name: 'revoke', url: 'https://revoke.example.test/hook' };

  it('enqueues jobs that carry the action name, not its index', async () => {
    const { responder, jobs } = responderWith([incidentHook, revokeHook]);
    await responder.handleFindings([makeFinding()]);
    expect(jobs.map((j) => j.action)).toEqual(['open-incident', 'revoke']);
    expect(jobs.every((j) => j.action_index === undefined)).toBe(true);
    expect(jobs[0]!.job_id).toBe(actionJobId(jobs[0]!.incident.incident_id, 'webhook', 'open-incident'));
  });

  it('runs a job queued before a reorder on the action it was queued for', async () => {
    const before = responderWith([incidentHook, revokeHook]);
    await before.responder.handleFindings([makeFinding()]);
    const after = responderWith([revokeHook, incidentHook]);
    for (const j of before.jobs) await after.responder.process(j, { attempt: 1, final: false });
    const byJob = new Map(after.attempts.map((a) => [a.job_id, a]));
    expect(byJob.get(before.jobs[0]!.job_id)).toMatchObject({
      outcome: 'dry_run',
      target: 'incidents.example.test',
    });
    expect(byJob.get(before.jobs[1]!.job_id)).toMatchObject({
      outcome: 'dry_run',
      target: 'revoke.example.test',
    });
  });

  it('refuses and records a job whose action was renamed or removed', async () => {
    const before = responderWith([incidentHook, revokeHook]);
    await before.responder.handleFindings([makeFinding()]);
    const after = responderWith([{ ...incidentHook, name: 'open-incident-v2' }]);
    for (const j of before.jobs)
      await expect(after.responder.process(j, { attempt: 1, final: false })).rejects.toMatchObject({
        name: 'PermanentError',
      });
    expect(after.attempts.map((a) => a.outcome)).toEqual(['failed', 'failed']);
    expect(after.attempts[0]!.error).toContain('no action named "open-incident"');
    expect(after.attempts[1]!.error).toContain('no action named "revoke"');
    expect(after.attempts.map((a) => a.target)).toEqual(['open-incident', 'revoke']);
  });

  it('refuses and records a job queued by position by an older version', async () => {
    const before = responderWith([incidentHook]);
    await before.responder.handleFindings([makeFinding()]);
    const { action: _, ...rest } = before.jobs[0]!;
    const old: ActionJob = { ...rest, job_id: `${rest.incident.incident_id}-webhook-0`, action_index: 0 };
    const after = responderWith([incidentHook]);
    await expect(after.responder.process(old, { attempt: 1, final: false })).rejects.toMatchObject({
      name: 'PermanentError',
    });
    expect(after.attempts).toHaveLength(1);
    expect(after.attempts[0]).toMatchObject({ outcome: 'failed', job_id: old.job_id });
    expect(after.attempts[0]!.error).toContain('response.actions[0]');
  });

  it('refuses to be built with two actions of one name (a config made in code)', () => {
    const action = {
      name: 'notify',
      type: 'webhook',
      mode: 'enforce',
      url_env: 'U',
      secret_env: 'S',
      timeout: 1,
    } as const;
    const build = () =>
      createResponder({
        config: { ...responseSchema.parse({}), actions: [action, { ...action, url_env: 'V' }] },
        queue: {
          kind: 'in-process',
          enqueue: async () => {},
          start: async () => {},
          pending: async () => 0,
          close: async () => {},
        },
        book: createIncidentBook(3_600_000),
        saveIncident: async () => {},
        recordAttempt: async () => {},
        alreadySucceeded: async () => false,
        webhookTargets: [],
        logger: createLogger('silent'),
        metrics: createMetrics(),
      });
    expect(build).toThrow('response.actions[1].name: duplicate action name "notify"');
  });
});

describe('approving a held response.actions job', () => {
  async function approveHeld(heldJobId: (incidentId: string) => string) {
    const enqueued: ActionJob[] = [];
    const queue: ActionQueue = {
      kind: 'in-process',
      enqueue: async (j) => void enqueued.push(j),
      start: async () => {},
      pending: async () => 0,
      close: async () => {},
    };
    const book = createIncidentBook(3_600_000);
    const finding = makeFinding();
    const { incident } = book.upsert(finding, Date.now());
    const held: Action = {
      action_id: 'a1',
      job_id: heldJobId(incident.incident_id),
      incident_id: incident.incident_id,
      tenant: incident.tenant,
      kind: 'webhook',
      target: 'hooks.example.test',
      mode: 'approval',
      attempt: 1,
      outcome: 'awaiting_approval',
      latency_ms: 0,
      error: '',
      time: Date.now(),
    };
    const control = createResponderControl({
      book,
      queue,
      targets: new Map(),
      killSwitch: createMemoryKillSwitch(false),
      reveal: async () => undefined,
      recordAttempt: async () => {},
      saveIncident: async () => {},
      audit: async () => {},
      findIncident: async () => incident,
      findFinding: async () => finding,
      findAction: async () => undefined,
      awaitingApproval: async () => [held],
      auditReason: async () => undefined,
    });
    const r = await control.approve(incident.incident_id, 'analyst-1');
    expect(r.ok).toBe(true);
    return enqueued;
  }

  it('enqueues the approved job for the same action name', async () => {
    const [job] = await approveHeld((id) => actionJobId(id, 'webhook', 'notify'));
    expect(job).toMatchObject({ action: 'notify', mode: 'enforce', approved_by: 'analyst-1' });
    expect(routeOf(job!)).toEqual({ to: 'action', name: 'notify' });
  });

  it('keeps a held job from before names by position, so that running it is refused', async () => {
    const [job] = await approveHeld((id) => `${id}-webhook-0`);
    expect(job!.action).toBeUndefined();
    expect(routeOf(job!).to).toBe('refused');
  });
});
