// PagerDuty notification through Events API v2: `POST /v2/enqueue` with the routing key, a trigger
// deduplicated by the incident id (retries and re-triggers land on the same PagerDuty incident).
// PagerDuty answers 202; 400 is a malformed event (final), 429 and 5xx are retried.
import type { TargetConfigOf } from '../../config/index.js';
import type { Severity } from '../../model/index.js';
import { expectStatus, joinUrl } from './http.js';
import type { ActionContext, ActionResult } from './types.js';

export type PagerdutyTarget = TargetConfigOf<'pagerduty'> & {
  readonly apiUrl: string;
  readonly routingKey: string;
};

export const containment = false;

export function plan(): string {
  return 'trigger a PagerDuty alert (dedup key = incident id)';
}

const PD_SEVERITY: Record<Severity, 'critical' | 'error' | 'warning' | 'info'> = {
  critical: 'critical',
  high: 'error',
  medium: 'warning',
  low: 'info',
};

export function pagerdutyEvent(ctx: ActionContext<PagerdutyTarget>) {
  const { incident, finding } = ctx.job;
  return {
    routing_key: ctx.target.routingKey,
    event_action: 'trigger',
    dedup_key: incident.incident_id,
    payload: {
      summary: `${incident.title}: ${finding.sentence}`.slice(0, 1024),
      source: 'vigil',
      severity: PD_SEVERITY[incident.severity],
      component: finding.collection || undefined,
      group: incident.tenant,
      class: finding.detector,
      custom_details: {
        incident_id: incident.incident_id,
        actor: incident.actor,
        risk: incident.risk,
        finding_id: finding.finding_id,
      },
    },
  };
}

export async function execute(ctx: ActionContext<PagerdutyTarget>): Promise<ActionResult> {
  await expectStatus({
    method: 'POST',
    url: joinUrl(ctx.target.apiUrl, '/v2/enqueue'),
    body: pagerdutyEvent(ctx),
    timeoutMs: ctx.target.timeout,
    what: 'pagerduty enqueue',
  });
  return { outcome: 'succeeded', detail: 'PagerDuty alert triggered' };
}
