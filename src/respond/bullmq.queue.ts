// BullMQ action queue (distributed mode). Job ids are deterministic, so adding an existing id —
// pending, running or completed and still retained — does nothing; completed jobs are kept for
// 30 days for that reason. Permanent errors become UnrecoverableError (no retry).
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { TlsMaterial } from '../config/index.js';
import { isPermanent } from '../model/index.js';
import { actionBackoffMs } from './backoff.js';
import type { ActionJob, ActionProcessor, ActionQueue } from './jobs.js';

export interface BullmqQueueOptions {
  readonly redisUrl: string;
  /** With a `rediss://` URL: the CA and client certificate (src/config/connections.ts). */
  readonly redisTls?: TlsMaterial;
  /** Queue name prefix (isolates tests and deployments sharing a Redis). */
  readonly prefix: string;
  readonly maxAttempts: number;
  readonly concurrency?: number;
  readonly backoffBaseMs?: number;
  readonly onError?: (jobId: string, err: unknown) => void;
}

const QUEUE_NAME = 'actions';
const KEEP_COMPLETED_S = 30 * 24 * 3600;

export function createBullmqQueue(opts: BullmqQueueOptions): ActionQueue {
  // BullMQ needs maxRetriesPerRequest: null on the worker connection (blocking commands).
  const connection = new Redis(opts.redisUrl, {
    maxRetriesPerRequest: null,
    lazyConnect: false,
    tls: opts.redisTls && { ...opts.redisTls },
  });
  const queue = new Queue<ActionJob>(QUEUE_NAME, { connection, prefix: opts.prefix });
  // A lost Redis connection is reported, not thrown: ioredis reconnects and jobs wait in Redis.
  queue.on('error', (err) => opts.onError?.('queue', err));
  let worker: Worker<ActionJob> | null = null;
  let workerConnection: Redis | null = null;

  return {
    kind: 'bullmq',
    async enqueue(job) {
      await queue.add(job.kind, job, {
        jobId: job.job_id,
        attempts: opts.maxAttempts,
        backoff: { type: 'vigil' },
        removeOnComplete: { age: KEEP_COMPLETED_S },
        removeOnFail: { age: KEEP_COMPLETED_S },
      });
    },
    async start(processor: ActionProcessor) {
      workerConnection = new Redis(opts.redisUrl, {
        maxRetriesPerRequest: null,
        tls: opts.redisTls && { ...opts.redisTls },
      });
      worker = new Worker<ActionJob>(
        QUEUE_NAME,
        async (job) => {
          const attempt = job.attemptsMade + 1;
          try {
            await processor(job.data, { attempt, final: attempt >= opts.maxAttempts });
          } catch (err) {
            opts.onError?.(job.data.job_id, err);
            if (isPermanent(err)) throw new UnrecoverableError((err as Error).message);
            throw err;
          }
        },
        {
          connection: workerConnection,
          prefix: opts.prefix,
          concurrency: opts.concurrency ?? 8,
          settings: {
            backoffStrategy: (attemptsMade: number) => actionBackoffMs(attemptsMade, opts.backoffBaseMs),
          },
        },
      );
      worker.on('error', (err) => opts.onError?.('worker', err));
      await worker.waitUntilReady();
    },
    async pending() {
      const counts = await queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized');
      return Object.values(counts).reduce((a, b) => a + b, 0);
    },
    async close() {
      // Worker first: it finishes the running job before its connection goes.
      await worker?.close();
      await queue.close();
      workerConnection?.disconnect();
      connection.disconnect();
    },
  };
}
