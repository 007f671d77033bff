// The in-process action queue: retries retriable failures, never permanent ones, runs a job id once.
import { describe, expect, it, vi } from 'vitest';
import { PermanentError, RetriableError } from '../../../src/model/errors.js';
import { createIncidentBook } from '../../../src/respond/incidents.js';
import { createInProcessQueue } from '../../../src/respond/in-process.queue.js';
import type { ActionJob, ActionQueue, AttemptInfo } from '../../../src/respond/jobs.js';
import { makeFinding } from '../../helpers/factories.js';
import { waitFor } from '../../helpers/wait.js';

function makeJob(jobId: string): ActionJob {
  const finding = makeFinding();
  const { incident } = createIncidentBook(3_600_000).upsert(finding, finding.detected_time);
  return {
    job_id: jobId,
    kind: 'webhook',
    mode: 'enforce',
    action: 'notify',
    incident,
    finding,
    enqueued_time: 0,
  };
}

async function drained(queue: ActionQueue): Promise<void> {
  await waitFor(
    () => queue.pending(),
    (n) => n === 0,
    { timeoutMs: 5_000, intervalMs: 5, what: 'queue drained' },
  );
}

describe('createInProcessQueue', () => {
  it('retries a job failing with a RetriableError until it succeeds', async () => {
    const attempts: AttemptInfo[] = [];
    const queue = createInProcessQueue({ maxAttempts: 5, backoffBaseMs: 1 });
    await queue.start(async (_job, info) => {
      attempts.push(info);
      if (info.attempt < 3) throw new RetriableError('webhook answered 503');
    });
    await queue.enqueue(makeJob('retry-me'));
    await drained(queue);
    expect(attempts).toEqual([
      { attempt: 1, final: false },
      { attempt: 2, final: false },
      { attempt: 3, final: false },
    ]);
    await queue.close();
  });

  it('gives up after maxAttempts, flagging the last attempt as final', async () => {
    const attempts: AttemptInfo[] = [];
    const errors: string[] = [];
    const queue = createInProcessQueue({
      maxAttempts: 3,
      backoffBaseMs: 1,
      onError: (id) => errors.push(id),
    });
    await queue.start(async (_job, info) => {
      attempts.push(info);
      throw new RetriableError('down');
    });
    await queue.enqueue(makeJob('always-down'));
    await drained(queue);
    expect(attempts).toEqual([
      { attempt: 1, final: false },
      { attempt: 2, final: false },
      { attempt: 3, final: true },
    ]);
    expect(errors).toEqual(['always-down', 'always-down', 'always-down']);
    await queue.close();
  });

  it('does not retry a PermanentError', async () => {
    let calls = 0;
    const queue = createInProcessQueue({ maxAttempts: 5, backoffBaseMs: 1 });
    await queue.start(async () => {
      calls++;
      throw new PermanentError('webhook answered 404');
    });
    await queue.enqueue(makeJob('permanent'));
    await drained(queue);
    expect(calls).toBe(1);
    await queue.close();
  });

  it('recognises a PermanentError by name, not by class', async () => {
    let calls = 0;
    const queue = createInProcessQueue({ maxAttempts: 5, backoffBaseMs: 1 });
    await queue.start(async () => {
      calls++;
      const err = new Error('from another realm');
      err.name = 'PermanentError';
      throw err;
    });
    await queue.enqueue(makeJob('permanent-by-name'));
    await drained(queue);
    expect(calls).toBe(1);
    await queue.close();
  });

  it('runs the same job id once, however often it is enqueued', async () => {
    const seen: string[] = [];
    const queue = createInProcessQueue({ maxAttempts: 3, backoffBaseMs: 1 });
    await queue.start(async (job) => {
      seen.push(job.job_id);
    });
    await queue.enqueue(makeJob('once'));
    await queue.enqueue(makeJob('once'));
    await drained(queue);
    await queue.enqueue(makeJob('once'));
    await queue.enqueue(makeJob('other'));
    await drained(queue);
    expect(seen).toEqual(['once', 'other']);
    await queue.close();
  });

  it('holds jobs enqueued before start and runs each once when started', async () => {
    const seen: string[] = [];
    const queue = createInProcessQueue({ maxAttempts: 3, backoffBaseMs: 1 });
    await queue.enqueue(makeJob('early-1'));
    await queue.enqueue(makeJob('early-1'));
    await queue.enqueue(makeJob('early-2'));
    expect(await queue.pending()).toBe(2);
    await queue.start(async (job) => {
      seen.push(job.job_id);
    });
    await drained(queue);
    expect(seen).toEqual(['early-1', 'early-2']);
    await queue.close();
  });

  it('stops retrying once closed', async () => {
    vi.useFakeTimers();
    try {
      let calls = 0;
      const queue = createInProcessQueue({ maxAttempts: 10, backoffBaseMs: 1_000 });
      await queue.start(async () => {
        calls++;
        throw new RetriableError('down');
      });
      await queue.enqueue(makeJob('closing'));
      await vi.advanceTimersByTimeAsync(0);
      expect(calls).toBe(1);
      await queue.close();
      await vi.advanceTimersByTimeAsync(10 * 60_000);
      expect(calls).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  // close() cancels the retry timers but leaves them in its bookkeeping (see the report).
  it('reports nothing pending after close cancelled a scheduled retry', async () => {
    const queue = createInProcessQueue({ maxAttempts: 10, backoffBaseMs: 60_000 });
    let calls = 0;
    await queue.start(async () => {
      calls++;
      throw new RetriableError('down');
    });
    await queue.enqueue(makeJob('phantom'));
    await waitFor(
      () => queue.pending(),
      (n) => n === 1 && calls === 1,
      { timeoutMs: 5_000, intervalMs: 5 },
    );
    await queue.close();
    expect(await queue.pending()).toBe(0);
  });
});
