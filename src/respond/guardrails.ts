// Guardrails around containment: a never-contain allowlist, a blast-radius limit per tenant, a
// global kill switch, and the finding-like alerts that say why an action was held back. The
// decisions are pure; the counters and the switch have an in-memory form here (one process) and
// a Redis form in guardrails.redis.ts (every responder of a deployment shares them).
import type { GuardrailsConfig } from '../config/index.js';
import { deterministicId, type Finding } from '../model/index.js';
import type { ActionMode } from './jobs.js';

/** The allowlist entry that protects this identity, if any. */
export function neverContainReason(
  config: GuardrailsConfig,
  subjects: readonly string[],
  labels: readonly string[],
): string | undefined {
  const token = subjects.find((s) => s && config.never_contain.tokens.includes(s));
  if (token) return `never-contain allowlist: ${token}`;
  const label = labels.find((l) => config.never_contain.labels.includes(l));
  if (label) return `never-contain allowlist: label ${label}`;
  return undefined;
}

/** The kill switch turns every enforce into a dry run; nothing else changes. */
export function effectiveMode(requested: ActionMode, killSwitchOn: boolean): ActionMode {
  return killSwitchOn && requested === 'enforce' ? 'dry-run' : requested;
}

export interface Reservation {
  readonly allowed: boolean;
  /** Containments counted in the tenant's window, this one included when allowed. */
  readonly count: number;
  readonly limit: number;
}

/**
 * Counts enforced containments per tenant in a sliding window. `reserve` is idempotent per key
 * (a retried job is counted once) and atomic: concurrent callers never both take the last slot.
 */
export interface BlastRadius {
  reserve(tenant: string, key: string, now: number, opts?: { force?: boolean }): Promise<Reservation>;
}

export function createMemoryBlastRadius(limits: GuardrailsConfig['blast_radius']): BlastRadius {
  const byTenant = new Map<string, Map<string, number>>();
  return {
    // Synchronous from check to insert (no await inside), so concurrent jobs of one process
    // cannot interleave between counting and reserving.
    async reserve(tenant, key, now, opts = {}) {
      let window = byTenant.get(tenant);
      if (!window) {
        window = new Map();
        byTenant.set(tenant, window);
      }
      for (const [k, t] of window) if (t <= now - limits.window) window.delete(k);
      const limit = limits.max_containments;
      if (window.has(key)) return { allowed: true, count: window.size, limit };
      if (window.size >= limit && !opts.force) return { allowed: false, count: window.size + 1, limit };
      window.set(key, now);
      return { allowed: true, count: window.size, limit };
    },
  };
}

export interface KillSwitch {
  isOn(): Promise<boolean>;
  /** Refused (returns false) when the environment forces the switch on. */
  set(on: boolean): Promise<boolean>;
  /** VIGIL_RESPONDER_KILL_SWITCH=true: on, and no API call can turn it off. */
  readonly forced: boolean;
}

export function createMemoryKillSwitch(forced: boolean): KillSwitch {
  let on = forced;
  return {
    forced,
    isOn: async () => forced || on,
    async set(value) {
      if (forced && !value) return false;
      on = value;
      return true;
    },
  };
}

/**
 * The record that says why containments are waiting: one finding per tenant and window, re-issued
 * (same id, higher count) as more are held back, so analysts see it with the other findings.
 */
export function blastRadiusFinding(opts: {
  tenant: string;
  reservation: Reservation;
  windowMs: number;
  now: number;
  jobId: string;
}): Finding {
  const { tenant, reservation, windowMs, now } = opts;
  const windowStart = Math.floor(now / windowMs) * windowMs;
  const minutes = Math.round(windowMs / 60_000);
  return {
    finding_id: deterministicId('responder.blast-radius', tenant, windowStart),
    tenant,
    detector: 'responder.blast-radius',
    entity_type: 'tenant',
    entity: tenant,
    actor: '',
    severity: 'high',
    score: 1,
    confidence: 1,
    event_time: now,
    detected_time: now,
    first_observed_time: now,
    title: 'Containment blast-radius limit reached',
    sentence:
      `${reservation.count} containments requested in tenant ${tenant} within ${minutes} min exceed the limit of ` +
      `${reservation.limit}: the rest wait for approval (vigil incidents approve ID). Many identities tripping at ` +
      'once is more often a detector or data problem than an attack.',
    observed: reservation.count,
    expected: reservation.limit,
    band_low: 0,
    band_high: reservation.limit,
    baseline_period: `${minutes}m`,
    features: { requested: reservation.count, limit: reservation.limit },
    evidence: [opts.jobId],
    collection: '',
    attack_techniques: [],
  };
}

/** The record of a containment a target refused to do automatically (escalated to a person). */
export function escalationFinding(opts: {
  tenant: string;
  actor: string;
  subject: string;
  target: string;
  reason: string;
  jobId: string;
  incidentId: string;
  now: number;
}): Finding {
  return {
    finding_id: deterministicId('responder.escalation', opts.jobId),
    tenant: opts.tenant,
    detector: 'responder.escalation',
    entity_type: 'incident',
    entity: opts.incidentId,
    actor: opts.actor,
    severity: 'critical',
    score: 1,
    confidence: 1,
    event_time: opts.now,
    detected_time: opts.now,
    first_observed_time: opts.now,
    title: 'Containment escalated to a person',
    sentence: `Target ${opts.target} did not contain ${opts.subject} automatically: ${opts.reason}. Incident ${opts.incidentId} needs a person.`,
    observed: 1,
    expected: 0,
    band_low: 0,
    band_high: 0,
    baseline_period: '',
    features: {},
    evidence: [opts.jobId],
    collection: '',
    attack_techniques: [],
  };
}
