// The responder queue on real Redis (BullMQ): a webhook whose target fails is retried until it
// succeeds, every attempt is recorded, and a job that succeeded never runs again.
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startWebhookReceiver, type WebhookReceiver } from '../../src/cli/demo/webhook-receiver.js';
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

describe('BullMQ responder queue on Redis', () => {
  let receiver: WebhookReceiver;
  let queue: ActionQueue | undefined;
  const secret = `whsec_${randomBytes(32).toString('base64')}`;

  beforeAll(async () => {
    receiver = await startWebhookReceiver(secret);
  });
  afterAll(async () => receiver?.close());
  afterEach(async () => {
    await queue?.close();
    queue = undefined;
    receiver.failWith(null);
    receiver.received.length = 0;
  });

  function setup(prefix: string) {
    const attempts: Action[] = [];
    const incidents: Incident[] = [];
    queue = createBullmqQueue({ redisUrl: REDIS_URL, prefix, maxAttempts: 6, backoffBaseMs: 50 });
    const responder = createResponder({
      config: {
        incident_min_score: 0.7,
        incident_group_window: 3_600_000,
        max_attempts: 6,
        actions: [
          { name: 'notify', type: 'webhook', mode: 'enforce', url_env: 'X', secret_env: 'Y', timeout: 2_000 },
        ],
      },
      queue,
      book: createIncidentBook(3_600_000),
      saveIncident: async (i) => void incidents.push(i),
      recordAttempt: async (a) => void attempts.push(a),
      alreadySucceeded: async (jobId) =>
        attempts.some((a) => a.job_id === jobId && a.outcome === 'succeeded'),
      webhookTargets: [{ url: receiver.url, secrets: [secret], timeoutMs: 2_000 }],
      logger: createLogger('silent'),
      metrics: createMetrics(),
    });
    return { attempts, incidents, responder, queue };
  }

  it('retries a failing webhook target until it recovers, recording every attempt', async () => {
    const { attempts, incidents, responder, queue: q } = setup(uniqueName('bq-retry'));
    await q.start(responder.process);
    receiver.failWith(503);
    await responder.handleFindings([makeFinding()]);
    await waitFor(
      () => attempts.length,
      (n) => n >= 2,
      { what: 'two failed attempts' },
    );
    receiver.failWith(null);
    await waitFor(
      () => attempts.filter((a) => a.outcome === 'succeeded').length,
      (n) => n === 1,
      { what: 'a successful attempt' },
    );
    const jobId = actionJobId(incidents[0]!.incident_id, 'webhook', 'notify');
    const mine = attempts.filter((a) => a.job_id === jobId);
    expect(mine.slice(0, -1).every((a) => a.outcome === 'retrying' && a.error.includes('503'))).toBe(true);
    expect(mine.at(-1)!.outcome).toBe('succeeded');
    expect(mine.map((a) => a.attempt)).toEqual(mine.map((_, i) => i + 1));
    expect(receiver.received.filter((r) => r.verified)).toHaveLength(1);
    expect(receiver.received[0]!.id).toBe(jobId);
  });

  it('never runs a succeeded job again, even when it is enqueued again', async () => {
    const { attempts, incidents, responder, queue: q } = setup(uniqueName('bq-once'));
    await q.start(responder.process);
    const finding = makeFinding();
    await responder.handleFindings([finding]);
    await waitFor(
      () => receiver.received.length,
      (n) => n === 1,
      { what: 'first delivery' },
    );
    const incident = incidents[0]!;
    // The same job again: by id (as a redelivered finding would enqueue it) …
    await q.enqueue({
      job_id: actionJobId(incident.incident_id, 'webhook', 'notify'),
      kind: 'webhook',
      mode: 'enforce',
      action: 'notify',
      incident,
      finding,
      enqueued_time: Date.now(),
    });
    // … and the same finding through the responder again.
    await responder.handleFindings([finding]);
    // A different job in the same queue runs, proving the worker is alive when we look.
    await q.enqueue({
      job_id: `probe-${randomBytes(4).toString('hex')}`,
      kind: 'webhook',
      mode: 'enforce',
      action: 'notify',
      incident,
      finding,
      enqueued_time: Date.now(),
    });
    await waitFor(
      () => receiver.received.length,
      (n) => n === 2,
      { what: 'probe delivery' },
    );
    expect(await q.pending()).toBe(0);
    expect(
      receiver.received.filter((r) => r.id === actionJobId(incident.incident_id, 'webhook', 'notify')),
    ).toHaveLength(1);
    expect(attempts.filter((a) => a.outcome === 'succeeded')).toHaveLength(2);
  });

  it('does not retry a permanent failure (4xx)', async () => {
    const { attempts, responder, queue: q } = setup(uniqueName('bq-perm'));
    await q.start(responder.process);
    receiver.failWith(400);
    await responder.handleFindings([makeFinding()]);
    await waitFor(
      () => attempts.length,
      (n) => n >= 1,
      { what: 'one attempt' },
    );
    // Give a would-be retry (50–100 ms backoff) ample time to show up.
    await waitFor(
      async () => q.pending(),
      (n) => n === 0,
      { what: 'queue idle' },
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(attempts).toHaveLength(1);
    expect(attempts[0]!.outcome).toBe('failed');
  });
});
