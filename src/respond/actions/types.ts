// The contract every action adapter (one per target under src/respond/actions/) fulfils.
import type { ActionJob } from '../jobs.js';

export interface ActionContext<T> {
  /** The target's settings with its secrets resolved from the environment. */
  readonly target: T;
  /**
   * Containment: the raw identifier (re-identified through the audited vault, never logged or
   * stored). Notifications: the token.
   */
  readonly subject: string;
  readonly job: ActionJob;
  /**
   * The subject's token, for messages: errors and details name the subject by it, never by the
   * raw identifier.
   */
  readonly subjectRef: string;
  /**
   * 1 for the first attempt. A later attempt follows one whose outcome is unknown (timeout, 5xx),
   * so "not found" may mean that attempt did the work; on the first attempt it never does.
   */
  readonly attempt: number;
}

export interface UndoContext<T> {
  readonly target: T;
  /** The raw identifier, as for execute. */
  readonly subject: string;
  /** The job whose containment is reversed. */
  readonly jobId: string;
  /** What execute recorded it did (from the admin audit trail); empty when unknown. */
  readonly state?: Record<string, unknown>;
}

/**
 * How a containment knows it worked: `confirmed`, its effect was read back from the target (the key
 * is gone, the user is inactive); `unconfirmable`, the target offers no read-back and `detail` says
 * why. A containment that can do neither fails instead of succeeding.
 */
export type Confirmation = 'confirmed' | 'unconfirmable';

export interface ActionResult {
  /** `escalated`: the adapter refused to act on its own (e.g. a shared role) and wants a person. */
  readonly outcome: 'succeeded' | 'escalated';
  /** Containment that succeeded: whether its effect was read back (absent for notifications). */
  readonly confirmation?: Confirmation;
  /** What was done, for the action row and the audit trail. */
  readonly detail: string;
  /** What `undo` needs to reverse exactly this (recorded in admin_audit; no secrets, no raw ids). */
  readonly state?: Record<string, unknown>;
  /** Undo only: a credential issued to the person undoing (returned to them, written nowhere). */
  readonly secret?: string;
}

export interface ActionAdapter<T> {
  /** True for adapters that take access away (counted by the blast-radius limit). */
  readonly containment: boolean;
  /** What execute would do, in words, naming the subject by its token (dry runs record this). */
  plan(target: T, subjectToken: string): string;
  execute(ctx: ActionContext<T>): Promise<ActionResult>;
  /** Reverses execute; absent when the target cannot (a deleted key stays deleted). */
  undo?(ctx: UndoContext<T>): Promise<ActionResult>;
}
