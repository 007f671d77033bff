// Generic webhook action: POSTs a JSON document signed per Standard Webhooks (webhook-id stable
// across retries, webhook-timestamp of this attempt, webhook-signature v1 HMAC-SHA256; during a
// secret rotation every secret signs). 2xx is success; 408/429/5xx and network errors are
// retried; other 4xx are permanent, and 410 Gone tells the responder to disable the endpoint
// (deliveries already in flight at that moment still fail with their own 410; later ones are skipped).
import { Webhook } from 'standardwebhooks';
import { PermanentError, RetriableError } from '../../model/index.js';
import type { ActionJob } from '../jobs.js';
import { type HttpError, isRetriableStatus } from './http.js';
import type { ActionContext, ActionResult } from './types.js';

export interface WebhookTarget {
  readonly url: string;
  /** `whsec_<base64>` secret(s); during rotation every listed secret signs (space-separated signatures). */
  readonly secrets: readonly string[];
  readonly timeoutMs: number;
}

export interface DeliveryResult {
  readonly status: number;
}

export const containment = false;

export function plan(t: Partial<WebhookTarget>): string {
  const host = URL.canParse(t.url ?? '') ? new URL(t.url!).host : 'the endpoint';
  return `POST a signed vigil.incident document to ${host}`;
}

export function signHeaders(
  target: WebhookTarget,
  msgId: string,
  body: string,
  at = new Date(),
): Record<string, string> {
  const signatures = target.secrets.map((s) => new Webhook(s).sign(msgId, at, body));
  return {
    'content-type': 'application/json',
    'webhook-id': msgId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  };
}

/** The document sent: the incident and the finding that triggered the action, tokens only. */
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

export async function deliverWebhook(
  target: WebhookTarget,
  msgId: string,
  body: string,
): Promise<DeliveryResult> {
  let res: Response;
  try {
    res = await fetch(target.url, {
      method: 'POST',
      headers: signHeaders(target, msgId, body),
      body,
      signal: AbortSignal.timeout(target.timeoutMs),
      redirect: 'error',
    });
  } catch (err) {
    throw new RetriableError(
      `webhook unreachable: ${(err as Error).name === 'TimeoutError' ? 'timed out' : (err as Error).message}`,
    );
  }
  await res.arrayBuffer().catch(() => undefined);
  if (res.ok) return { status: res.status };
  const err: HttpError = isRetriableStatus(res.status)
    ? new RetriableError(`webhook answered ${res.status}`)
    : new PermanentError(`webhook answered ${res.status}`);
  err.status = res.status;
  throw err;
}

export async function execute(ctx: ActionContext<WebhookTarget>): Promise<ActionResult> {
  const r = await deliverWebhook(ctx.target, ctx.job.job_id, webhookBody(ctx.job));
  return { outcome: 'succeeded', detail: `delivered (${r.status})` };
}
