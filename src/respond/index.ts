export * from './actions/webhook.action.js';
export * from './backoff.js';
export { createBullmqQueue } from './bullmq.queue.js';
export * from './incidents.js';
export { createInProcessQueue } from './in-process.queue.js';
export * from './jobs.js';
export * from './responder.js';
export * from './stage.js';
