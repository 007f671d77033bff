// The responder's queue payload contract, in one place for both queue implementations.
import type { Finding, Incident } from '../model/index.js';

export type ActionMode = 'enforce' | 'dry-run' | 'approval';

export interface ActionJob {
  /** Deterministic per (incident, action): the queue runs a given id at most once to success. */
  readonly job_id: string;
  readonly kind: 'webhook';
  readonly mode: ActionMode;
  /** Index of the action in the pipeline's response.actions (its configuration). */
  readonly action_index: number;
  readonly incident: Incident;
  readonly finding: Finding;
  /** When the job was enqueued (epoch ms), for time-to-respond. */
  readonly enqueued_time: number;
}

export interface AttemptInfo {
  /** 1-based. */
  readonly attempt: number;
  readonly final: boolean;
}

/** Runs one attempt; throws RetriableError / PermanentError (by name) on failure. */
export type ActionProcessor = (job: ActionJob, info: AttemptInfo) => Promise<void>;

export interface ActionQueue {
  readonly kind: 'bullmq' | 'in-process';
  /** Adding a job id that exists (pending, running or done) is a no-op. */
  enqueue(job: ActionJob): Promise<void>;
  start(processor: ActionProcessor): Promise<void>;
  /** Jobs waiting, delayed or running. */
  pending(): Promise<number>;
  close(): Promise<void>;
}

export function actionJobId(incidentId: string, kind: string, index: number): string {
  // BullMQ forbids ':' in custom ids.
  return `${incidentId}-${kind}-${index}`;
}
