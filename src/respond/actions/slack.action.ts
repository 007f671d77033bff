// Slack notification through an incoming webhook: POST {text}. Slack answers 200 "ok"; its errors
// are 4xx with a word in the body (invalid_payload, no_service, channel_is_archived) and are final.
import type { TargetConfigOf } from '../../config/index.js';
import { expectStatus } from './http.js';
import type { ActionContext, ActionResult } from './types.js';

export type SlackTarget = TargetConfigOf<'slack'> & { readonly url: string };

export const containment = false;

export function plan(): string {
  return 'post the incident to the Slack channel of the incoming webhook';
}

export function slackText(ctx: ActionContext<SlackTarget>): string {
  const { incident, finding } = ctx.job;
  return [
    `:rotating_light: *vigil ${incident.severity} incident* ${incident.incident_id} (tenant ${incident.tenant})`,
    finding.sentence,
    `risk ${incident.risk.toFixed(1)} · detector ${finding.detector} · status ${incident.status}`,
  ].join('\n');
}

export async function execute(ctx: ActionContext<SlackTarget>): Promise<ActionResult> {
  await expectStatus({
    method: 'POST',
    url: ctx.target.url,
    body: { text: slackText(ctx) },
    timeoutMs: ctx.target.timeout,
    what: 'slack webhook',
  });
  return { outcome: 'succeeded', detail: 'posted to Slack' };
}
