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
    handler: async (messages) => responder.handleFindings(messages.map((m) => decodeJson<Finding>(m))),
  });
}
