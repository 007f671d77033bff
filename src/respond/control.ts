// What people do to the responder, through the admin API or the CLI: move an incident along its
// lifecycle, approve held actions, undo a containment, flip the kill switch. Every call is audited
// with its caller.
import {
  type Action,
  deterministicId,
  errorMessage,
  type Finding,
  type Incident,
  type IncidentStatus,
} from '../model/index.js';
import { adapterOf, type ResolvedTarget } from './actions/index.js';
import type { KillSwitch } from './guardrails.js';
import { type IncidentBook, transitionIncident } from './incidents.js';
import { type ActionJob, type ActionQueue, approvedJobId, parseTargetColumn, undoJobId } from './jobs.js';
import { type AuditEntry, scrubMessage } from './responder.js';

export type ControlResult<T> = { ok: true; value: T } | { ok: false; status: 404 | 409 | 502; error: string };

export interface LifecycleDeps {
  readonly findIncident: (incidentId: string) => Promise<Incident | undefined>;
  readonly saveIncident: (incident: Incident) => Promise<void>;
  readonly audit: (entry: AuditEntry) => Promise<void>;
  /** The running responder's book, kept in step (absent when the CLI writes the store itself). */
  readonly book?: IncidentBook;
  readonly now?: () => number;
}

const VERB: Partial<Record<IncidentStatus, string>> = {
  acknowledged: 'incident.ack',
  resolved: 'incident.resolve',
  contained: 'incident.contain',
};

/** Acknowledge or resolve an incident (who and when land on the row and in the audit trail). */
export async function changeIncidentStatus(
  deps: LifecycleDeps,
  incidentId: string,
  to: IncidentStatus,
  caller: string,
): Promise<ControlResult<Incident>> {
  const now = deps.now ?? Date.now;
  const incident = deps.book?.get(incidentId) ?? (await deps.findIncident(incidentId));
  if (!incident) return { ok: false, status: 404, error: `no incident ${incidentId}` };
  const t = transitionIncident(incident, to, caller, now());
  await deps.audit({
    caller,
    action: VERB[to] ?? `incident.${to}`,
    target: incidentId,
    reason: t.ok ? `${incident.status} → ${to}` : t.reason,
    outcome: t.ok ? to : 'refused',
  });
  if (!t.ok) return { ok: false, status: 409, error: t.reason };
  await deps.saveIncident(t.incident);
  deps.book?.replace(t.incident);
  return { ok: true, value: t.incident };
}

export interface ControlDeps extends LifecycleDeps {
  readonly book: IncidentBook;
  readonly queue: ActionQueue;
  readonly targets: ReadonlyMap<string, ResolvedTarget>;
  readonly killSwitch: KillSwitch;
  readonly reveal: (token: string, reason: string) => Promise<string | undefined>;
  readonly recordAttempt: (action: Action) => Promise<void>;
  readonly findFinding: (findingId: string) => Promise<Finding | undefined>;
  /** One attempt by action id, or the latest attempt of a job id. */
  readonly findAction: (id: string) => Promise<Action | undefined>;
  /** An incident's jobs held for approval and not yet approved. */
  readonly awaitingApproval: (incidentId: string) => Promise<Action[]>;
  /** The `reason` of the latest audit record of `action` on `target` with `outcome`. */
  readonly auditReason: (action: string, target: string, outcome: string) => Promise<string | undefined>;
}

export interface UndoOutcome {
  readonly job_id: string;
  readonly detail: string;
  /** A credential issued by the undo (e.g. a rotated Weaviate key), shown to the caller once. */
  readonly secret?: string;
}

export interface ResponderControl {
  transition(
    incidentId: string,
    to: 'acknowledged' | 'resolved',
    caller: string,
  ): Promise<ControlResult<Incident>>;
  approve(incidentId: string, caller: string): Promise<ControlResult<{ approved: string[] }>>;
  undo(actionId: string, caller: string): Promise<ControlResult<UndoOutcome>>;
  killSwitch(): Promise<{ on: boolean; forced: boolean }>;
  setKillSwitch(on: boolean, caller: string): Promise<ControlResult<{ on: boolean; forced: boolean }>>;
}

/**
 * A held job's id is `<incident>-webhook.<name>` (response.actions), `<incident>-<target>-<mode>`
 * (policy), or `<incident>-webhook-<index>` (response.actions, queued before actions had names).
 */
function rebuildJob(
  row: Action,
  incident: Incident,
  finding: Finding,
  caller: string,
  now: number,
): ActionJob | undefined {
  const rest = row.job_id.startsWith(`${incident.incident_id}-`)
    ? row.job_id.slice(incident.incident_id.length + 1)
    : '';
  const base = {
    job_id: approvedJobId(row.job_id),
    mode: 'enforce' as const,
    approved_by: caller,
    incident,
    finding,
    enqueued_time: now,
  };
  const named = /^webhook\.(.+)$/.exec(rest);
  if (named) return { ...base, kind: 'webhook', action: named[1]! };
  // Approving one of these goes through like any other: the responder refuses and records it
  // (by position, it may no longer be the action the person was asked about).
  const byPosition = /^webhook-(\d+)$/.exec(rest);
  if (byPosition) return { ...base, kind: 'webhook', action_index: Number(byPosition[1]) };
  const parsed = parseTargetColumn(row.target);
  if (!parsed) return undefined;
  return {
    ...base,
    kind: row.kind as ActionJob['kind'],
    target: parsed.target,
    subject: parsed.subject,
    rule: `approved by ${caller}`,
  };
}

export function createResponderControl(deps: ControlDeps): ResponderControl {
  const now = deps.now ?? Date.now;

  async function recordUndo(row: Action, outcome: Action['outcome'], started: number, detail: string) {
    const jobId = undoJobId(row.job_id);
    const t = now();
    await deps.recordAttempt({
      action_id: deterministicId(jobId, t, outcome),
      job_id: jobId,
      incident_id: row.incident_id,
      tenant: row.tenant,
      kind: row.kind,
      target: row.target,
      mode: 'enforce',
      attempt: 1,
      outcome,
      latency_ms: Math.max(0, t - started),
      error: detail.slice(0, 1000),
      time: t,
    });
  }

  return {
    transition: (incidentId, to, caller) => changeIncidentStatus(deps, incidentId, to, caller),

    async approve(incidentId, caller) {
      const incident = deps.book.get(incidentId) ?? (await deps.findIncident(incidentId));
      if (!incident) return { ok: false, status: 404, error: `no incident ${incidentId}` };
      if (incident.status === 'resolved')
        return { ok: false, status: 409, error: 'the incident is resolved' };
      const held = await deps.awaitingApproval(incidentId);
      if (held.length === 0)
        return { ok: false, status: 409, error: 'no action of this incident awaits approval' };
      const lastFinding = incident.finding_ids.at(-1);
      const finding = lastFinding ? await deps.findFinding(lastFinding) : undefined;
      if (!finding)
        return { ok: false, status: 409, error: 'the incident has no stored finding yet; retry shortly' };
      const approved: string[] = [];
      for (const row of held) {
        const job = rebuildJob(row, incident, finding, caller, now());
        if (!job) continue;
        await deps.queue.enqueue(job);
        approved.push(job.job_id);
      }
      await deps.audit({
        caller,
        action: 'incident.approve',
        target: incidentId,
        reason: approved.join(' '),
        outcome: approved.length ? 'approved' : 'nothing_to_approve',
      });
      return { ok: true, value: { approved } };
    },

    async undo(actionId, caller) {
      const row = await deps.findAction(actionId);
      if (!row) return { ok: false, status: 404, error: `no action ${actionId}` };
      if (row.outcome !== 'succeeded')
        return {
          ok: false,
          status: 409,
          error: `only a succeeded containment can be undone (this one: ${row.outcome})`,
        };
      const parsed = parseTargetColumn(row.target);
      const target = parsed ? deps.targets.get(parsed.target) : undefined;
      if (!parsed || !target)
        return { ok: false, status: 409, error: 'not a containment of a configured target' };
      const adapter = adapterOf(target);
      if (!adapter.containment || !adapter.undo)
        return { ok: false, status: 409, error: `a ${target.type} action cannot be undone` };
      const previous = await deps.findAction(undoJobId(row.job_id));
      if (previous?.outcome === 'undone') return { ok: false, status: 409, error: 'already undone' };
      const recorded = await deps.auditReason(`contain.${target.type}`, row.job_id, 'succeeded');
      let state: Record<string, unknown> = {};
      try {
        state = (JSON.parse(recorded ?? '{}') as { state?: Record<string, unknown> }).state ?? {};
      } catch {
        state = {};
      }
      const started = now();
      const raw = await deps.reveal(parsed.subject, `undo of ${row.job_id} by ${caller}`);
      if (raw === undefined)
        return {
          ok: false,
          status: 409,
          error: 'the vault has no entry for the subject (VIGIL_VAULT_ENABLED)',
        };
      try {
        const result = await adapter.undo({
          target: target.settings,
          subject: raw,
          jobId: row.job_id,
          state,
        });
        const detail = scrubMessage(result.detail, raw, parsed.subject);
        await recordUndo(row, 'undone', started, detail);
        await deps.audit({
          caller,
          action: `undo.${target.type}`,
          target: row.job_id,
          reason: detail,
          outcome: 'undone',
        });
        const incident = deps.book.get(row.incident_id) ?? (await deps.findIncident(row.incident_id));
        if (incident?.status === 'contained')
          await changeIncidentStatus(deps, incident.incident_id, 'acknowledged', caller);
        return { ok: true, value: { job_id: row.job_id, detail, secret: result.secret } };
      } catch (err) {
        const message = scrubMessage(errorMessage(err), raw, parsed.subject);
        await recordUndo(row, 'failed', started, `undo: ${message}`);
        await deps.audit({
          caller,
          action: `undo.${target.type}`,
          target: row.job_id,
          reason: message,
          outcome: 'failed',
        });
        return { ok: false, status: 502, error: `undo failed: ${message}` };
      }
    },

    async killSwitch() {
      return { on: await deps.killSwitch.isOn(), forced: deps.killSwitch.forced };
    },

    async setKillSwitch(on, caller) {
      const accepted = await deps.killSwitch.set(on);
      await deps.audit({
        caller,
        action: 'responder.kill-switch',
        target: 'responder',
        reason: accepted ? '' : 'forced on by VIGIL_RESPONDER_KILL_SWITCH',
        outcome: accepted ? (on ? 'on' : 'off') : 'refused',
      });
      if (!accepted)
        return {
          ok: false,
          status: 409,
          error: 'VIGIL_RESPONDER_KILL_SWITCH forces the switch on; unset it to turn it off',
        };
      return { ok: true, value: { on: await deps.killSwitch.isOn(), forced: deps.killSwitch.forced } };
    },
  };
}
