// The responder's queue payload contract, in one place for both queue implementations.
import type { TargetType } from '../config/index.js';
import type { Finding, Incident } from '../model/index.js';

export type ActionMode = 'enforce' | 'dry-run' | 'approval';

export interface ActionJob {
  /** Deterministic per (incident, action): the queue runs a given id at most once to success. */
  readonly job_id: string;
  readonly kind: TargetType;
  readonly mode: ActionMode;
  /** Index of the action in the pipeline's response.actions (its configuration); -1 for policy actions. */
  readonly action_index: number;
  /** Policy actions: the name of the entry of response.targets the action goes to. */
  readonly target?: string;
  /** Policy actions: token of the identity or credential acted on (re-identified only to act). */
  readonly subject?: string;
  /** Policy actions: the rule that asked for the action. */
  readonly rule?: string;
  /** Set when a person approved the action (it then bypasses the blast-radius limit). */
  readonly approved_by?: string;
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

export function actionJobId(incidentId: string, kind: string, index: number | string): string {
  // BullMQ forbids ':' in custom ids.
  return `${incidentId}-${kind}-${index}`;
}

/**
 * A policy action's job id: one per incident × target × mode, so a dry-run and a later enforce of
 * the same target are two jobs, while the same decision made twice is one.
 */
export function policyJobId(incidentId: string, target: string, mode: ActionMode): string {
  return `${incidentId}-${target}-${mode}`;
}

/** The job an approval turns an awaiting job into. */
export function approvedJobId(jobId: string): string {
  return `${jobId}-approved`;
}

/** The id under which an undo of a job is recorded. */
export function undoJobId(jobId: string): string {
  return `${jobId}-undo`;
}

/** The `target` column of a policy action's rows: `<target name>:<subject token>`. */
export function targetColumn(target: string, subject: string): string {
  return `${target}:${subject}`;
}

export function parseTargetColumn(value: string): { target: string; subject: string } | undefined {
  const i = value.indexOf(':');
  if (i <= 0) return undefined;
  return { target: value.slice(0, i), subject: value.slice(i + 1) };
}
