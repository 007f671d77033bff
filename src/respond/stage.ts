// The respond stage: findings topic in (group "respond"); offsets committed once incidents are
// stored and their action jobs enqueued (both idempotent, so a redelivery changes nothing).
import { type Bus, decodeJson, type Subscription, TOPICS } from '../bus/index.js';
import type { Finding } from '../model/index.js';
import type { Responder } from './responder.js';

export async function startRespondStage(bus: Bus, responder: Responder): Promise<Subscription> {
  return bus.subscribe({
    topic: TOPICS.findings,
    group: 'respond',
    maxBatch: 1_000,
    // Findings come one or two at a time, and a batch waits for its incidents to be stored before
    // its actions are enqueued: one batch at a time, findings queued behind each other's insert
    // (seconds under load). Decisions are still made in log order (handleFindings decides before
    // it first waits); job ids are deterministic, so enqueue order does not matter.
    concurrency: 4,
    handler: async (messages) => responder.handleFindings(messages.map((m) => decodeJson<Finding>(m))),
  });
}
