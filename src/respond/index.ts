export { ADAPTERS, adapterOf, type ResolvedTarget, type TargetSettings } from './actions/index.js';
export type { ActionAdapter, ActionContext, ActionResult } from './actions/types.js';
export {
  type DeliveryResult,
  deliverWebhook,
  signHeaders,
  type WebhookTarget,
  webhookBody,
} from './actions/webhook.action.js';
export * from './backoff.js';
export { createBullmqQueue } from './bullmq.queue.js';
export * from './control.js';
export * from './guardrails.js';
export { createRedisGuardrails, type RedisGuardrails } from './guardrails.redis.js';
export * from './incidents.js';
export { createInProcessQueue } from './in-process.queue.js';
export * from './jobs.js';
export * from './policy.js';
export * from './responder.js';
export * from './stage.js';
export * from './targets.js';
