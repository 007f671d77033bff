// In-process action queue (embedded mode only): same contract as BullMQ — deterministic job ids
// run at most once to success, retries with backoff, permanent errors not retried.
import { LRUCache } from 'lru-cache';
import { errorMessage, isPermanent } from '../model/index.js';
import { actionBackoffMs } from './backoff.js';
import type { ActionJob, ActionProcessor, ActionQueue } from './jobs.js';

export interface InProcessQueueOptions {
  readonly maxAttempts: number;
  readonly backoffBaseMs?: number;
  readonly onError?: (jobId: string, err: unknown) => void;
}

export function createInProcessQueue(opts: InProcessQueueOptions): ActionQueue {
  const known = new LRUCache<string, true>({ max: 100_000 });
  const waiting: ActionJob[] = [];
  const running = new Set<Promise<void>>();
  const timers = new Set<NodeJS.Timeout>();
  let processor: ActionProcessor | null = null;
  let closed = false;

  function run(job: ActionJob, attempt: number): void {
    if (closed || !processor) return;
    const p = (async () => {
      try {
        await processor!(job, { attempt, final: attempt >= opts.maxAttempts });
      } catch (err) {
        opts.onError?.(job.job_id, err);
        if (!isPermanent(err) && attempt < opts.maxAttempts && !closed) {
          const t = setTimeout(
            () => {
              timers.delete(t);
              run(job, attempt + 1);
            },
            actionBackoffMs(attempt, opts.backoffBaseMs),
          );
          timers.add(t);
        }
      }
    })();
    running.add(p);
    void p.finally(() => running.delete(p));
  }

  return {
    kind: 'in-process',
    async enqueue(job) {
      if (known.has(job.job_id)) return;
      known.set(job.job_id, true);
      if (processor) run(job, 1);
      else waiting.push(job);
    },
    async start(p) {
      processor = p;
      for (const job of waiting.splice(0)) run(job, 1);
    },
    async pending() {
      return running.size + timers.size + waiting.length;
    },
    async close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await Promise.allSettled([...running]).catch((err) =>
        opts.onError?.('close', new Error(errorMessage(err))),
      );
    },
  };
}
