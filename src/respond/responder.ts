// The responder: findings in, incidents and actions out. Policy decides (policy.ts); the queue runs
// actions with retries and deterministic job ids; guardrails stand between a decision and a target
// (allowlist, kill switch, approval, blast radius); every attempt is recorded.
import { type ResponseConfig, responseSchema } from '../config/index.js';
import {
  type Action,
  deterministicId,
  errorMessage,
  type Finding,
  type Incident,
  isPermanent,
  PermanentError,
} from '../model/index.js';
import type { Logger, Metrics } from '../telemetry/index.js';
import { adapterOf, type ResolvedTarget, statusOf } from './actions/index.js';
import type { ActionResult } from './actions/types.js';
import { deliverWebhook, type WebhookTarget, webhookBody } from './actions/webhook.action.js';
import {
  type BlastRadius,
  blastRadiusFinding,
  createMemoryBlastRadius,
  createMemoryKillSwitch,
  effectiveMode,
  escalationFinding,
  type KillSwitch,
  neverContainReason,
} from './guardrails.js';
import type { RiskEngine } from '../detect/risk.js';
import { type IncidentBook, riskAfter, transitionIncident } from './incidents.js';
import {
  type ActionJob,
  type ActionProcessor,
  type ActionQueue,
  actionJobId,
  policyJobId,
  routeOf,
  targetColumn,
} from './jobs.js';
import { entityLabels, evaluatePolicy } from './policy.js';

export { webhookBody };

/** What the responder writes to the admin audit trail (same shape as the store's audit rows). */
export interface AuditEntry {
  readonly caller: string;
  readonly action: string;
  readonly target: string;
  readonly reason: string;
  readonly outcome: string;
}

/** The responder's configuration; keys added after the first release may be left out. */
export type ResponderConfig = Pick<
  ResponseConfig,
  'incident_min_score' | 'incident_group_window' | 'max_attempts' | 'actions'
> &
  Partial<ResponseConfig>;

export interface ResponderDeps {
  readonly config: ResponderConfig;
  readonly queue: ActionQueue;
  readonly book: IncidentBook;
  /** Resolves once the incident row is durable. */
  readonly saveIncident: (incident: Incident) => Promise<void>;
  /** Resolves once the attempt row is durable. */
  readonly recordAttempt: (action: Action) => Promise<void>;
  /** True when an earlier attempt of this job succeeded (survives queue loss and restarts). */
  readonly alreadySucceeded: (jobId: string) => Promise<boolean>;
  /**
   * Webhook target per index of config.actions, the same config (undefined when its URL is not
   * configured). Jobs name their action; the name is looked up in config.actions when they run.
   */
  readonly webhookTargets: ReadonlyArray<WebhookTarget | undefined>;
  /** Policy targets by name, secrets resolved. */
  readonly targets?: ReadonlyMap<string, ResolvedTarget>;
  /** Targets that are configured but cannot be used, and why (an env var is unset). */
  readonly unavailableTargets?: ReadonlyMap<string, string>;
  /**
   * Token → raw identifier through the vault, audited as caller `responder`; undefined when the
   * vault has no entry (or is disabled).
   */
  readonly reveal?: (token: string, reason: string) => Promise<string | undefined>;
  readonly audit?: (entry: AuditEntry) => Promise<void>;
  /** Stores a finding-like record the responder raises (blast radius reached, escalation). */
  readonly raiseAlert?: (finding: Finding) => Promise<void>;
  readonly blastRadius?: BlastRadius;
  readonly killSwitch?: KillSwitch;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly now?: () => number;
  /** Per-identity risk with decay; when given, crossing incident_min_risk opens an incident. */
  readonly risk?: RiskEngine;
}

export interface Responder {
  handleFindings(findings: Finding[]): Promise<void>;
  readonly process: ActionProcessor;
  /** The complete configuration the responder runs with (defaults filled in). */
  readonly config: ResponseConfig;
  /** Marks an incident contained (after a successful containment). */
  markContained(incidentId: string, by: string): Promise<void>;
  /** Webhook endpoints disabled after answering 410 Gone (by target key). */
  readonly disabledEndpoints: ReadonlySet<string>;
}

/** Does the policy open an incident for this finding? Pure. */
export function opensIncident(config: Pick<ResponseConfig, 'incident_min_score'>, f: Finding): boolean {
  return f.score >= config.incident_min_score;
}

/** Fills the keys an older caller left out with their defaults. */
export function completeConfig(config: ResponderConfig): ResponseConfig {
  const defaults = responseSchema.parse({});
  return { ...defaults, ...config };
}

/**
 * Replaces the raw identifier (and its URL-encoded form) in a message by its token: adapter errors
 * quote what they were given (URLs, "role … does not exist"), and messages are logged and stored.
 */
export function scrubMessage(message: string, raw: string | undefined, token: string): string {
  if (!raw || raw.length < 2) return message;
  let out = message.split(raw).join(`<${token}>`);
  const encoded = encodeURIComponent(raw);
  if (encoded !== raw) out = out.split(encoded).join(`<${token}>`);
  return out;
}

function scrubError(err: unknown, raw: string | undefined, token: string): Error {
  const message = scrubMessage(errorMessage(err), raw, token);
  const e = new Error(message);
  // Keep the name (the queue decides on it) and the HTTP status (410 handling).
  Object.defineProperty(e, 'name', { value: err instanceof Error ? err.name : 'Error' });
  const status = statusOf(err);
  if (status !== undefined) Object.assign(e, { status });
  return e;
}

export function createResponder(deps: ResponderDeps): Responder {
  const now = deps.now ?? Date.now;
  const config = completeConfig(deps.config);
  const targets = deps.targets ?? new Map<string, ResolvedTarget>();
  const killSwitch = deps.killSwitch ?? createMemoryKillSwitch(false);
  const blastRadius = deps.blastRadius ?? createMemoryBlastRadius(config.guardrails.blast_radius);
  const disabledEndpoints = new Set<string>();
  /** Errors whose attempt is already recorded (so the catch-all below does not record it twice). */
  const recorded = new WeakSet<Error>();
  /** response.actions by name: what a queued job points at (its position may change on reload). */
  const actionIndex = new Map<string, number>();
  for (const [i, a] of config.actions.entries()) {
    // The config schema refuses duplicates; this guards configs built in code.
    if (actionIndex.has(a.name))
      throw new Error(`response.actions[${i}].name: duplicate action name "${a.name}"`);
    actionIndex.set(a.name, i);
  }

  async function record(
    job: ActionJob,
    attempt: number,
    outcome: Action['outcome'],
    started: number,
    error = '',
    target = '',
    confirmation?: Action['confirmation'],
  ): Promise<void> {
    await deps.recordAttempt({
      ...(confirmation ? { confirmation } : {}),
      action_id: deterministicId(job.job_id, attempt, outcome),
      job_id: job.job_id,
      incident_id: job.incident.incident_id,
      tenant: job.incident.tenant,
      kind: job.kind,
      target,
      mode: job.mode,
      attempt,
      outcome,
      latency_ms: Math.max(0, now() - started),
      error: error.slice(0, 1000),
      time: now(),
    });
  }

  async function raise(f: Finding): Promise<void> {
    try {
      await deps.raiseAlert?.(f);
    } catch (err) {
      deps.logger.warn({ err: errorMessage(err), detector: f.detector }, 'could not store responder alert');
    }
  }

  async function markContained(incidentId: string, by: string): Promise<void> {
    const current = deps.book.get(incidentId);
    if (!current) return;
    const t = transitionIncident(current, 'contained', by, now());
    if (!t.ok) return;
    deps.book.replace(t.incident);
    await deps.saveIncident(t.incident);
    deps.metrics.inc('incidents_contained');
  }

  /** An endpoint that answered 410 Gone is off until restart: recorded, never called again. */
  async function disableEndpoint(key: string, host: string): Promise<void> {
    if (disabledEndpoints.has(key)) return;
    disabledEndpoints.add(key);
    deps.logger.warn({ target: key, host }, 'webhook endpoint answered 410 Gone: disabled');
    await deps.audit?.({
      caller: 'responder',
      action: 'webhook.disabled',
      target: key,
      reason: `${host} answered 410 Gone`,
      outcome: 'disabled',
    });
  }

  /** A job that must not run: recorded as a failed attempt, then failed for good (no retry). */
  async function refuse(job: ActionJob, attempt: number, started: number, reason: string, target = '') {
    deps.metrics.inc('respond_jobs_refused');
    await record(job, attempt, 'failed', started, reason, target);
    const err = new PermanentError(reason);
    recorded.add(err);
    throw err;
  }

  /** A response.actions job: runs only when an action of that name is still configured. */
  async function processConfiguredAction(
    job: ActionJob,
    name: string,
    attempt: number,
    final: boolean,
    started: number,
  ) {
    const index = actionIndex.get(name);
    if (index === undefined)
      return refuse(
        job,
        attempt,
        started,
        `response.actions has no action named "${name}" (renamed or removed since the job was queued); not run`,
        name,
      );
    const target = deps.webhookTargets[index];
    if (!target) {
      await record(job, attempt, 'skipped', started, 'no webhook URL configured');
      return;
    }
    const host = new URL(target.url).host;
    const key = `actions.${name}`;
    if (disabledEndpoints.has(key))
      return record(job, attempt, 'skipped', started, 'endpoint disabled after 410 Gone', host);
    if (job.mode === 'dry-run')
      return record(job, attempt, 'dry_run', started, `would POST the signed incident to ${host}`, host);
    if (job.mode === 'approval' && !job.approved_by)
      return record(
        job,
        attempt,
        'awaiting_approval',
        started,
        approvalHint(job, 'the action asks for approval'),
        host,
      );
    try {
      await deliverWebhook(target, job.job_id, webhookBody(job));
      deps.metrics.observe('respond_time_to_act_ms', now() - job.enqueued_time);
      await record(job, attempt, 'succeeded', started, '', host);
    } catch (err) {
      const permanent = isPermanent(err);
      if (statusOf(err) === 410) await disableEndpoint(key, host);
      await record(
        job,
        attempt,
        permanent || final ? 'failed' : 'retrying',
        started,
        errorMessage(err),
        host,
      );
      throw err;
    }
  }

  function approvalHint(job: ActionJob, why: string): string {
    return `${why}: vigil incidents approve ${job.incident.incident_id}`;
  }

  async function processPolicyAction(job: ActionJob, attempt: number, final: boolean, started: number) {
    const name = job.target!;
    const subjectToken = job.subject || job.incident.actor;
    const column = targetColumn(name, subjectToken);
    const target = targets.get(name);
    if (!target) {
      const why = deps.unavailableTargets?.get(name) ?? 'not in response.targets';
      return record(job, attempt, 'skipped', started, `target ${name} is not configured: ${why}`, column);
    }
    const adapter = adapterOf(target);
    if (disabledEndpoints.has(name))
      return record(job, attempt, 'skipped', started, 'endpoint disabled after 410 Gone', column);
    if (adapter.containment) {
      const labels = entityLabels(config, job.finding);
      const protectedBy = neverContainReason(
        config.guardrails,
        [subjectToken, job.incident.actor, job.finding.entity],
        labels,
      );
      if (protectedBy) return record(job, attempt, 'skipped', started, protectedBy, column);
    }
    // The kill switch stops containment only: notifications keep telling people what happens.
    const killed = adapter.containment && (await killSwitch.isOn());
    const mode = adapter.containment ? effectiveMode(job.mode, killed) : job.mode;
    if (mode === 'dry-run') {
      const why = killed && job.mode === 'enforce' ? 'kill switch on; ' : '';
      return record(
        job,
        attempt,
        'dry_run',
        started,
        `${why}would ${adapter.plan(target.settings, subjectToken)}`,
        column,
      );
    }
    if (mode === 'approval' && !job.approved_by) {
      const why = `policy ${job.rule ?? '?'} asks for approval to ${adapter.plan(target.settings, subjectToken)}`;
      return record(job, attempt, 'awaiting_approval', started, approvalHint(job, why), column);
    }
    if (adapter.containment) {
      const r = await blastRadius.reserve(job.incident.tenant, job.job_id, now(), {
        force: Boolean(job.approved_by),
      });
      if (!r.allowed) {
        deps.metrics.inc('respond_blast_radius_held');
        await raise(
          blastRadiusFinding({
            tenant: job.incident.tenant,
            reservation: r,
            windowMs: config.guardrails.blast_radius.window,
            now: now(),
            jobId: job.job_id,
          }),
        );
        const why = `blast radius: ${r.count} containments in tenant ${job.incident.tenant} within the window exceed ${r.limit}`;
        return record(job, attempt, 'awaiting_approval', started, approvalHint(job, why), column);
      }
    }
    let raw: string | undefined;
    let result: ActionResult;
    try {
      let subject = subjectToken;
      if (adapter.containment) {
        // The real identifier is needed only here, held only for this call, and every reveal is audited.
        raw = await deps.reveal?.(subjectToken, `containment ${job.job_id} (policy ${job.rule ?? '?'})`);
        if (raw === undefined)
          throw new PermanentError(
            `no raw identifier for ${subjectToken}: the vault is disabled or has no entry (VIGIL_VAULT_ENABLED=true)`,
          );
        subject = raw;
      }
      result = await adapter.execute({
        target: target.settings,
        subject,
        job,
        subjectRef: subjectToken,
        attempt,
      });
    } catch (err) {
      const clean = scrubError(err, raw, subjectToken);
      const permanent = isPermanent(clean);
      if (target.type === 'webhook' && statusOf(clean) === 410)
        await disableEndpoint(name, new URL(target.settings.url).host);
      await record(job, attempt, permanent || final ? 'failed' : 'retrying', started, clean.message, column);
      recorded.add(clean);
      throw clean;
    }
    const detail = scrubMessage(result.detail, raw, subjectToken);
    if (result.outcome === 'escalated') {
      deps.metrics.inc('respond_escalated');
      await raise(
        escalationFinding({
          tenant: job.incident.tenant,
          actor: job.incident.actor,
          subject: subjectToken,
          target: name,
          reason: detail,
          jobId: job.job_id,
          incidentId: job.incident.incident_id,
          now: now(),
        }),
      );
      await record(job, attempt, 'escalated', started, detail, column);
      return;
    }
    // A containment is done only with its effect read back, or with the reason it cannot be: an
    // adapter that says neither has not shown that the credential is gone.
    const confirmation = adapter.containment ? result.confirmation : undefined;
    if (adapter.containment && !confirmation) {
      const why = `${target.type} reported success without confirming it or saying why it cannot: not counted as contained`;
      await record(job, attempt, 'failed', started, why, column);
      const err = new PermanentError(why);
      recorded.add(err);
      throw err;
    }
    if (adapter.containment) {
      // What was done, and what undo needs, before the attempt counts as succeeded.
      await deps.audit?.({
        caller: 'responder',
        action: `contain.${target.type}`,
        target: job.job_id,
        reason: JSON.stringify({ detail, confirmation, state: result.state ?? {} }),
        outcome: 'succeeded',
      });
    }
    deps.metrics.observe('respond_time_to_act_ms', now() - job.enqueued_time);
    await record(job, attempt, 'succeeded', started, detail, column, confirmation);
    if (adapter.containment) await markContained(job.incident.incident_id, 'responder');
  }

  const process: ActionProcessor = async (job, info) => {
    const started = now();
    if (await deps.alreadySucceeded(job.job_id)) return;
    const route = routeOf(job);
    if (route.to === 'refused') return refuse(job, info.attempt, started, route.reason);
    if (route.to === 'action')
      return processConfiguredAction(job, route.name, info.attempt, info.final, started);
    try {
      await processPolicyAction(job, info.attempt, info.final, started);
    } catch (err) {
      // Failures before the target was called (guardrail state, vault) are attempts too.
      if (!(err instanceof Error && recorded.has(err))) {
        const permanent = isPermanent(err);
        const column = targetColumn(route.target, job.subject || job.incident.actor);
        await record(
          job,
          info.attempt,
          permanent || info.final ? 'failed' : 'retrying',
          started,
          errorMessage(err),
          column,
        );
      }
      throw err;
    }
  };

  async function enqueuePolicyActions(incident: Incident, f: Finding): Promise<void> {
    const decision = evaluatePolicy(config, f, { risk: incident.risk });
    for (const a of decision.actions) {
      await deps.queue.enqueue({
        job_id: policyJobId(incident.incident_id, a.target, a.mode),
        kind: a.type,
        mode: a.mode,
        target: a.target,
        subject: a.subject === 'actor' ? incident.actor : f.entity,
        rule: a.rule,
        incident,
        finding: f,
        enqueued_time: now(),
      });
    }
  }

  return {
    process,
    config,
    markContained,
    disabledEndpoints,
    async handleFindings(findings) {
      // Decide for the whole batch first (in memory, in order), store every changed incident at
      // once, then enqueue: an action is still enqueued only after its incident is durable. Saving
      // incident by incident made each finding wait for the previous one's insert, so under load
      // findings queued here for seconds before anything was contained.
      const decided: Array<{ f: Finding; incident: Incident; created: boolean; changed: boolean }> = [];
      // The newest version of each changed incident (an older one in the same batch is folded away).
      const changedIncidents = new Map<string, Incident>();
      for (const f of findings) {
        // Suppressed findings (a rule or analyst feedback) are stored, never acted on.
        if (f.suppressed) {
          deps.metrics.inc('respond_findings_suppressed');
          continue;
        }
        // Policy sees the risk the identity would have with this finding counted: the risk
        // engine's decaying sum when there is one, else the open incident's running total. Risk
        // decays in event time (the finding's), so a replay weighs findings as live operation did.
        const current = deps.book.peek(f.tenant, f.actor);
        const known = current?.finding_ids.includes(f.finding_id) ?? false;
        const composed = deps.risk?.add(f, f.event_time);
        const risk = composed
          ? composed.risk
          : current
            ? known
              ? current.risk
              : riskAfter(current.risk, f)
            : riskAfter(0, f);
        const byRisk = deps.risk !== undefined && risk >= config.incident_min_risk;
        // A finding already in an open incident updates it whatever its risk now (its title follows
        // the finding's latest figures); only a new finding needs the policy or the risk to open one.
        if (!known && !evaluatePolicy(config, f, { risk }).opensIncident && !byRisk) continue;
        const { incident, created, changed } = deps.book.upsert(f, now(), composed);
        if (changed) {
          changedIncidents.delete(incident.incident_id);
          changedIncidents.set(incident.incident_id, incident);
        }
        decided.push({ f, incident, created, changed });
      }
      await Promise.all([...changedIncidents.values()].map((i) => deps.saveIncident(i)));
      for (const { f, incident, created, changed } of decided) {
        if (changed) deps.metrics.inc(created ? 'incidents_opened' : 'incidents_updated');
        if (created) {
          deps.logger.info(
            { incident: incident.incident_id, actor: incident.actor, severity: incident.severity },
            'incident opened',
          );
          for (const action of config.actions) {
            await deps.queue.enqueue({
              job_id: actionJobId(incident.incident_id, action.type, action.name),
              kind: action.type,
              mode: action.mode,
              action: action.name,
              incident,
              finding: f,
              enqueued_time: now(),
            });
          }
        }
        // Also for a finding seen before: it may come back with higher numbers. Job ids are
        // deterministic, so repeating a decision enqueues nothing new.
        await enqueuePolicyActions(incident, f);
      }
    },
  };
}
