// Findings, incidents and responder actions: what detectors conclude and what the responder did.
import { z } from 'zod';

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const findingSchema = z.object({
  finding_id: z.string().min(1),
  tenant: z.string().min(1),
  detector: z.string().min(1),
  /** What the finding is about: `actor`, `credential`, `collection`, `src_net`. */
  entity_type: z.string().min(1),
  /** Token of the entity. */
  entity: z.string().min(1),
  /** Token of the identity held responsible (equals `entity` for actor findings). */
  actor: z.string(),
  severity: z.enum(SEVERITIES),
  /** Anomaly score in [0, 1]. */
  score: z.number().min(0).max(1),
  confidence: z.number().min(0).max(1),
  /** Event time at which the detector fired (epoch ms). */
  event_time: z.number().int(),
  /** Wall-clock time the detector fired (epoch ms). */
  detected_time: z.number().int(),
  /** Wall-clock time the triggering event was accepted by vigil (epoch ms), for detection latency. */
  first_observed_time: z.number().int(),
  title: z.string(),
  /** One plain sentence an analyst can read; tokens only. */
  sentence: z.string(),
  observed: z.number(),
  expected: z.number(),
  band_low: z.number(),
  band_high: z.number(),
  baseline_period: z.string(),
  features: z.record(z.string(), z.number()),
  evidence: z.array(z.string()),
  collection: z.string(),
  attack_techniques: z.array(z.string()),
  /** Why the finding is suppressed (a rule or analyst feedback); absent or '' when it is live. */
  suppressed: z.string().optional(),
});
export type Finding = z.infer<typeof findingSchema>;

export const INCIDENT_STATUSES = ['open', 'acknowledged', 'contained', 'resolved'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

export const incidentSchema = z.object({
  incident_id: z.string().min(1),
  tenant: z.string().min(1),
  actor: z.string().min(1),
  status: z.enum(INCIDENT_STATUSES),
  severity: z.enum(SEVERITIES),
  risk: z.number(),
  title: z.string(),
  summary: z.string(),
  finding_ids: z.array(z.string()),
  opened_time: z.number().int(),
  updated_time: z.number().int(),
  updated_by: z.string(),
});
export type Incident = z.infer<typeof incidentSchema>;

/**
 * `escalated`: the target refused to act automatically (e.g. a role shared by a pool) and a person
 * was asked; `awaiting_approval`: held by policy or the blast-radius limit until approved;
 * `undone`: a person reversed an earlier containment.
 */
export const ACTION_OUTCOMES = [
  'succeeded',
  'failed',
  'retrying',
  'dry_run',
  'skipped',
  'escalated',
  'awaiting_approval',
  'undone',
] as const;
export type ActionOutcome = (typeof ACTION_OUTCOMES)[number];

export const ACTION_CONFIRMATIONS = ['', 'confirmed', 'unconfirmable'] as const;

/** One attempt of one responder action (every attempt is recorded). */
export const actionSchema = z.object({
  action_id: z.string().min(1),
  job_id: z.string().min(1),
  incident_id: z.string(),
  tenant: z.string(),
  kind: z.string(),
  target: z.string(),
  mode: z.enum(['enforce', 'dry-run', 'approval']),
  attempt: z.number().int().positive(),
  outcome: z.enum(ACTION_OUTCOMES),
  latency_ms: z.number().nonnegative(),
  /** Why it failed; for the other outcomes the reason, or what a dry run would have done. */
  error: z.string(),
  time: z.number().int(),
  /**
   * A succeeded containment: `confirmed` (its effect was read back from the target) or
   * `unconfirmable` (the target offers no read-back; `error` says why). Empty otherwise.
   */
  confirmation: z.enum(ACTION_CONFIRMATIONS).optional(),
});
export type Action = z.infer<typeof actionSchema>;

const SEVERITY_RANK: Record<Severity, number> = { low: 1, medium: 2, high: 3, critical: 4 };

export function maxSeverity(a: Severity, b: Severity): Severity {
  return SEVERITY_RANK[a] >= SEVERITY_RANK[b] ? a : b;
}

export function severityRank(s: Severity): number {
  return SEVERITY_RANK[s];
}
