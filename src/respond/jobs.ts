// The responder's queue payload contract, in one place for both queue implementations.
import type { TargetType } from '../config/index.js';
import type { Finding, Incident } from '../model/index.js';

export type ActionMode = 'enforce' | 'dry-run' | 'approval';

export interface ActionJob {
  /** Deterministic per (incident, action): the queue runs a given id at most once to success. */
  readonly job_id: string;
  readonly kind: TargetType;
  readonly mode: ActionMode;
  /** response.actions jobs: the `name` of the entry that configures the action (never its position). */
  readonly action?: string;
  /**
   * Only in jobs queued before actions had names (the entry's position in response.actions, -1 for
   * policy actions). Never written now; such a job is refused when it runs (see `routeOf`).
   */
  readonly action_index?: number;
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

/**
 * A response.actions job's id: one per incident × action name. The '.' cannot occur in a policy
 * job's id (target names are letters, digits, _ and -), so the two kinds of id never collide.
 */
export function actionJobId(incidentId: string, kind: string, name: string): string {
  // BullMQ forbids ':' in custom ids.
  return `${incidentId}-${kind}.${name}`;
}

/** Where a queued job goes, read from its payload. */
export type JobRoute =
  | { readonly to: 'policy'; readonly target: string }
  | { readonly to: 'action'; readonly name: string }
  /** The job cannot be matched to the configuration safely: recorded as failed, never run. */
  | { readonly to: 'refused'; readonly reason: string };

/**
 * Reads a job's destination. A job queued by an older vigil names its action by position only;
 * the list may have been reordered since, and running it could send a retry meant for one action
 * to another. Such jobs fail closed: refused (and recorded), not run, not guessed at.
 */
export function routeOf(job: ActionJob): JobRoute {
  if (job.target) return { to: 'policy', target: job.target };
  if (job.action) return { to: 'action', name: job.action };
  if (typeof job.action_index === 'number')
    return {
      to: 'refused',
      reason: `queued by an older vigil as response.actions[${job.action_index}] (a position, not a name); not run, as the list may have changed since`,
    };
  return { to: 'refused', reason: 'the job names no action and no target; not run' };
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
