// The responder: findings in, incidents and actions out. Policy decides; the queue runs actions
// with retries and deterministic job ids; every attempt is recorded.
import type { ResponseConfig } from '../config/index.js';
import { type Action, deterministicId, errorMessage, type Finding, type Incident } from '../model/index.js';
import type { Logger, Metrics } from '../telemetry/index.js';
import { deliverWebhook, type WebhookTarget } from './actions/webhook.action.js';
import type { IncidentBook } from './incidents.js';
import { type ActionJob, type ActionProcessor, type ActionQueue, actionJobId } from './jobs.js';

export interface ResponderDeps {
  readonly config: ResponseConfig;
  readonly queue: ActionQueue;
  readonly book: IncidentBook;
  /** Resolves once the incident row is durable. */
  readonly saveIncident: (incident: Incident) => Promise<void>;
  /** Resolves once the attempt row is durable. */
  readonly recordAttempt: (action: Action) => Promise<void>;
  /** True when an earlier attempt of this job succeeded (survives queue loss and restarts). */
  readonly alreadySucceeded: (jobId: string) => Promise<boolean>;
  /** Webhook target per index of config.actions (undefined when its URL is not configured). */
  readonly webhookTargets: ReadonlyArray<WebhookTarget | undefined>;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly now?: () => number;
}

export interface Responder {
  handleFindings(findings: Finding[]): Promise<void>;
  readonly process: ActionProcessor;
}

/** Does the policy open an incident for this finding? Pure. */
export function opensIncident(config: ResponseConfig, f: Finding): boolean {
  return f.score >= config.incident_min_score;
}

export function webhookBody(job: ActionJob): string {
  const { incident, finding } = job;
  return JSON.stringify({
    type: 'vigil.incident',
    incident: {
      id: incident.incident_id,
      tenant: incident.tenant,
      actor: incident.actor,
      status: incident.status,
      severity: incident.severity,
      risk: incident.risk,
      title: incident.title,
      opened_time: new Date(incident.opened_time).toISOString(),
      finding_ids: incident.finding_ids,
    },
    finding: {
      id: finding.finding_id,
      detector: finding.detector,
      score: finding.score,
      sentence: finding.sentence,
      observed: finding.observed,
      expected: finding.expected,
      band: [finding.band_low, finding.band_high],
      evidence: finding.evidence,
      attack_techniques: finding.attack_techniques,
    },
  });
}

export function createResponder(deps: ResponderDeps): Responder {
  const now = deps.now ?? Date.now;

  async function record(
    job: ActionJob,
    attempt: number,
    outcome: Action['outcome'],
    started: number,
    error = '',
    target = '',
  ): Promise<void> {
    await deps.recordAttempt({
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

  const process: ActionProcessor = async (job, info) => {
    const started = now();
    if (await deps.alreadySucceeded(job.job_id)) return;
    const target = deps.webhookTargets[job.action_index];
    if (!target) {
      await record(job, info.attempt, 'skipped', started, 'no webhook URL configured');
      return;
    }
    const host = new URL(target.url).host;
    if (job.mode === 'dry-run') return record(job, info.attempt, 'dry_run', started, '', host);
    if (job.mode === 'approval')
      return record(job, info.attempt, 'skipped', started, 'awaiting approval', host);
    try {
      await deliverWebhook(target, job.job_id, webhookBody(job));
      deps.metrics.observe('respond_time_to_act_ms', now() - job.enqueued_time);
      await record(job, info.attempt, 'succeeded', started, '', host);
    } catch (err) {
      const permanent = err instanceof Error && err.name === 'PermanentError';
      await record(
        job,
        info.attempt,
        permanent || info.final ? 'failed' : 'retrying',
        started,
        errorMessage(err),
        host,
      );
      throw err;
    }
  };

  return {
    process,
    async handleFindings(findings) {
      for (const f of findings) {
        if (!opensIncident(deps.config, f)) continue;
        const { incident, created, changed } = deps.book.upsert(f, now());
        if (!changed) continue;
        await deps.saveIncident(incident);
        deps.metrics.inc(created ? 'incidents_opened' : 'incidents_updated');
        if (!created) continue;
        deps.logger.info(
          { incident: incident.incident_id, actor: incident.actor, severity: incident.severity },
          'incident opened',
        );
        for (const [index, action] of deps.config.actions.entries()) {
          await deps.queue.enqueue({
            job_id: actionJobId(incident.incident_id, action.type, index),
            kind: action.type,
            mode: action.mode,
            action_index: index,
            incident,
            finding: f,
            enqueued_time: now(),
          });
        }
      }
    },
  };
}
