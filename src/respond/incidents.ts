// Incident grouping: one open incident per identity collects that identity's findings within the
// group window. Incident ids are deterministic (from the first finding), so a redelivered finding
// lands in the same incident and its actions keep their job ids.
//
// Grouping runs in event time (the findings' own times), never on the clock the responder reads
// them by: a replay of last month's events opens last month's incidents, grouped as live operation
// grouped them. Only `updated_time` (when the row was written; its version and export cursor) is
// the wall clock.
import {
  deterministicId,
  type Finding,
  type Incident,
  type IncidentStatus,
  maxSeverity,
  severityRank,
} from '../model/index.js';

export interface IncidentBook {
  /**
   * Adds the finding to its identity's open incident, or opens one. `now` (wall clock) is only
   * written as the row's `updated_time`; grouping and the opened time come from the finding's event time.
   */
  upsert(
    finding: Finding,
    now: number,
    composed?: ComposedRisk,
  ): { incident: Incident; created: boolean; changed: boolean };
  load(incidents: Incident[]): void;
  /** The book's current copy of an incident that is not resolved. */
  get(incidentId: string): Incident | undefined;
  /** The identity's current incident, if any (to evaluate policy before the upsert). */
  peek(tenant: string, actor: string): Incident | undefined;
  /** Replaces an incident after a lifecycle change; a resolved one leaves the book. */
  replace(incident: Incident): void;
}

/**
 * The identity's risk as the risk engine composed it with this finding, and the sentence saying
 * which findings composed it: the incident keeps that risk and appends the sentence to its summary.
 */
export interface ComposedRisk {
  readonly risk: number;
  readonly explanation: string;
}

export function createIncidentBook(groupWindowMs: number): IncidentBook {
  const open = new Map<string, Incident>();
  const key = (tenant: string, actor: string) => `${tenant}\u0000${actor}`;

  return {
    load(incidents) {
      for (const i of incidents) if (i.status !== 'resolved') open.set(key(i.tenant, i.actor), i);
    },
    get(incidentId) {
      for (const i of open.values()) if (i.incident_id === incidentId) return i;
      return undefined;
    },
    peek: (tenant, actor) => open.get(key(tenant, actor)),
    replace(incident) {
      const k = key(incident.tenant, incident.actor);
      if (open.get(k)?.incident_id !== incident.incident_id) return;
      if (incident.status === 'resolved') open.delete(k);
      else open.set(k, incident);
    },
    upsert(f, now, composed) {
      const summary = composed ? `${f.sentence} ${composed.explanation}` : f.sentence;
      const k = key(f.tenant, f.actor);
      const current = open.get(k);
      // A finding of the identity within the window (event time) of the incident's latest finding
      // joins it; one out of order (earlier than that) joins it too.
      if (
        current &&
        current.status !== 'resolved' &&
        f.event_time - lastEventTime(current) <= groupWindowMs
      ) {
        const known = current.finding_ids.includes(f.finding_id);
        const severity = maxSeverity(current.severity, f.severity);
        const risk = composed ? composed.risk : known ? current.risk : riskAfter(current.risk, f);
        // The title and summary follow the latest update of any of its findings: a finding re-issued
        // with larger figures changes the incident even when its severity and risk did not move
        // (the risk decays between issues and is capped), so the incident never shows stale numbers.
        const title = `${f.title} (${f.actor})`;
        if (
          known &&
          severity === current.severity &&
          risk <= current.risk &&
          title === current.title &&
          summary === current.summary
        )
          return { incident: current, created: false, changed: false };
        const next: Incident = {
          ...current,
          severity,
          risk,
          finding_ids: known ? current.finding_ids : [...current.finding_ids, f.finding_id],
          title,
          summary,
          last_event_time: Math.max(lastEventTime(current), f.event_time),
          updated_time: now,
          updated_by: 'vigil',
        };
        open.set(k, next);
        return { incident: next, created: false, changed: true };
      }
      const incident: Incident = {
        incident_id: deterministicId('incident', f.tenant, f.actor, f.finding_id),
        tenant: f.tenant,
        actor: f.actor,
        status: 'open',
        severity: f.severity,
        risk: composed ? composed.risk : riskAfter(0, f),
        title: `${f.title} (${f.actor})`,
        summary,
        finding_ids: [f.finding_id],
        opened_time: f.event_time,
        last_event_time: f.event_time,
        updated_time: now,
        updated_by: 'vigil',
      };
      open.set(k, incident);
      return { incident, created: true, changed: true };
    },
  };
}

/** An incident stored before it had `last_event_time` (the column's default) counts from its opening. */
function lastEventTime(i: Incident): number {
  return i.last_event_time || i.opened_time;
}

/** Risk accumulates per finding: score × severity weight, capped at 100. */
export function riskAfter(previous: number, f: Finding): number {
  return Math.min(100, previous + f.score * f.confidence * 10 * severityRank(f.severity));
}

/**
 * The incident lifecycle: open → acknowledged → contained → resolved. Containment may come straight
 * from open (the responder acts before anyone looks); resolve is allowed from any live state; an
 * undone containment goes back to acknowledged (a person has it in hand).
 */
const ALLOWED: Record<IncidentStatus, readonly IncidentStatus[]> = {
  open: ['acknowledged', 'contained', 'resolved'],
  acknowledged: ['contained', 'resolved'],
  contained: ['acknowledged', 'resolved'],
  resolved: [],
};

export type TransitionResult = { ok: true; incident: Incident } | { ok: false; reason: string };

/** Pure: the incident after a lifecycle change by `by` at `now`, or why it cannot change. */
export function transitionIncident(
  incident: Incident,
  to: IncidentStatus,
  by: string,
  now: number,
): TransitionResult {
  if (incident.status === to) return { ok: false, reason: `incident is already ${to}` };
  if (!ALLOWED[incident.status].includes(to))
    return { ok: false, reason: `an incident that is ${incident.status} cannot become ${to}` };
  return { ok: true, incident: { ...incident, status: to, updated_time: now, updated_by: by } };
}
