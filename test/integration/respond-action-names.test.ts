// Jobs queued in Redis (BullMQ) survive a change of response.actions between enqueue and run: a
// reordered list still sends each job to the action it was queued for, and a renamed or removed
// action (or a job from before names, by position only) is refused and recorded, never run.
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startWebhookReceiver, type WebhookReceiver } from '../../src/cli/demo/webhook-receiver.js';
import { responseSchema } from '../../src/config/index.js';
import type { Action, Incident } from '../../src/model/index.js';
import {
  type ActionQueue,
  actionJobId,
  createBullmqQueue,
  createIncidentBook,
  createResponder,
} from '../../src/respond/index.js';
import { createLogger, createMetrics } from '../../src/telemetry/index.js';
import { makeFinding } from '../helpers/factories.js';
import { REDIS_URL, uniqueName } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';

describe('queued response.actions jobs across a config change (BullMQ on Redis)', () => {
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  let incidentHook: WebhookReceiver;
  let revokeHook: WebhookReceiver;
  const open: ActionQueue[] = [];

  beforeAll(async () => {
    [incidentHook, revokeHook] = await Promise.all([
      startWebhookReceiver(secret),
      startWebhookReceiver(secret),
    ]);
  });
  afterAll(async () => {
    await Promise.all([incidentHook?.close(), revokeHook?.close()]);
  });
  afterEach(async () => {
    for (const q of open.splice(0)) await q.close();
    incidentHook.received.length = 0;
    revokeHook.received.length = 0;
  });

  /** One process's responder: its own config, on the shared queue `prefix`. */
  function processWith(prefix: string, actions: Array<{ name: string; hook: WebhookReceiver }>) {
    const attempts: Action[] = [];
    const incidents: Incident[] = [];
    const queue = createBullmqQueue({ redisUrl: REDIS_URL, prefix, maxAttempts: 4, backoffBaseMs: 50 });
    open.push(queue);
    const config = responseSchema.parse({
      max_attempts: 4,
      actions: actions.map((a) => ({
        type: 'webhook',
        name: a.name,
        url_env: `${a.name.toUpperCase().replaceAll('-', '_')}_URL`,
      })),
    });
    const responder = createResponder({
      config,
      queue,
      book: createIncidentBook(3_600_000),
      saveIncident: async (i) => void incidents.push(i),
      recordAttempt: async (a) => void attempts.push(a),
      alreadySucceeded: async (id) => attempts.some((a) => a.job_id === id && a.outcome === 'succeeded'),
      webhookTargets: actions.map((a) => ({ url: a.hook.url, secrets: [secret], timeoutMs: 2_000 })),
      logger: createLogger('silent'),
      metrics: createMetrics(),
    });
    return { queue, responder, attempts, incidents };
  }

  /** Enqueues the actions of one new incident with config `actions`, and stops before any runs. */
  async function enqueueThenStop(prefix: string, actions: Array<{ name: string; hook: WebhookReceiver }>) {
    const before = processWith(prefix, actions);
    await before.responder.handleFindings([makeFinding()]);
    expect(await before.queue.pending()).toBe(actions.length);
    await before.queue.close();
    open.splice(open.indexOf(before.queue), 1);
    return before.incidents[0]!;
  }

  async function failedInRedis(prefix: string): Promise<number> {
    const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const q = new Queue('actions', { connection, prefix });
    try {
      return await q.getFailedCount();
    } finally {
      await q.close();
      connection.disconnect();
    }
  }

  it('runs each pending job on the action it was queued for after the list is reordered', async () => {
    const prefix = uniqueName('names-reorder');
    const incident = await enqueueThenStop(prefix, [
      { name: 'open-incident', hook: incidentHook },
      { name: 'revoke', hook: revokeHook },
    ]);
    // The same actions, the other way round: by position, each job would now go to the other hook.
    const after = processWith(prefix, [
      { name: 'revoke', hook: revokeHook },
      { name: 'open-incident', hook: incidentHook },
    ]);
    await after.queue.start(after.responder.process);
    await waitFor(
      () => after.attempts.filter((a) => a.outcome === 'succeeded').length,
      (n) => n === 2,
      { what: 'both deliveries' },
    );
    expect(incidentHook.received.map((r) => r.id)).toEqual([
      actionJobId(incident.incident_id, 'webhook', 'open-incident'),
    ]);
    expect(revokeHook.received.map((r) => r.id)).toEqual([
      actionJobId(incident.incident_id, 'webhook', 'revoke'),
    ]);
    expect([...incidentHook.received, ...revokeHook.received].every((r) => r.verified)).toBe(true);
  });

  it('refuses and records, without running, pending jobs whose action was renamed or removed', async () => {
    const prefix = uniqueName('names-renamed');
    const incident = await enqueueThenStop(prefix, [
      { name: 'open-incident', hook: incidentHook },
      { name: 'revoke', hook: revokeHook },
    ]);
    // open-incident renamed, revoke removed; the renamed one points at the very same hook.
    const after = processWith(prefix, [{ name: 'open-incident-v2', hook: incidentHook }]);
    await after.queue.start(after.responder.process);
    await waitFor(
      () => after.attempts.length,
      (n) => n === 2,
      { what: 'two refusals recorded' },
    );
    await waitFor(
      () => after.queue.pending(),
      (n) => n === 0,
      { what: 'queue idle' },
    );
    // Refused for good: dead in Redis, not retried (a retry would be a third row).
    expect(await failedInRedis(prefix)).toBe(2);
    await new Promise((r) => setTimeout(r, 300));
    expect(after.attempts).toHaveLength(2);
    const byJob = new Map(after.attempts.map((a) => [a.job_id, a]));
    const opened = byJob.get(actionJobId(incident.incident_id, 'webhook', 'open-incident'))!;
    const revoked = byJob.get(actionJobId(incident.incident_id, 'webhook', 'revoke'))!;
    expect(opened).toMatchObject({ outcome: 'failed', target: 'open-incident', attempt: 1 });
    expect(opened.error).toContain('no action named "open-incident"');
    expect(revoked).toMatchObject({ outcome: 'failed', target: 'revoke', attempt: 1 });
    expect(revoked.error).toContain('no action named "revoke"');
    expect(incidentHook.received).toHaveLength(0);
    expect(revokeHook.received).toHaveLength(0);
  });

  it('refuses and records a pending job written by the older version (position, no name)', async () => {
    const prefix = uniqueName('names-legacy');
    const q = processWith(prefix, [{ name: 'open-incident', hook: incidentHook }]);
    const finding = makeFinding();
    const { incident } = createIncidentBook(3_600_000).upsert(finding, Date.now());
    // The payload the previous release put in Redis for response.actions[0].
    const jobId = `${incident.incident_id}-webhook-0`;
    await q.queue.enqueue({
      job_id: jobId,
      kind: 'webhook',
      mode: 'enforce',
      action_index: 0,
      incident,
      finding,
      enqueued_time: Date.now(),
    });
    await q.queue.start(q.responder.process);
    await waitFor(
      () => q.attempts.length,
      (n) => n === 1,
      { what: 'the refusal recorded' },
    );
    await waitFor(
      () => q.queue.pending(),
      (n) => n === 0,
      { what: 'queue idle' },
    );
    expect(await failedInRedis(prefix)).toBe(1);
    expect(q.attempts[0]).toMatchObject({ job_id: jobId, outcome: 'failed', attempt: 1 });
    expect(q.attempts[0]!.error).toContain('response.actions[0]');
    expect(incidentHook.received).toHaveLength(0);
  });
});
