// A local Standard Webhooks receiver: what the demo and the tests point the responder at. It
// verifies every delivery's signature and timestamp and keeps what it received.
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { Webhook } from 'standardwebhooks';

export interface ReceivedWebhook {
  readonly id: string;
  readonly verified: boolean;
  readonly body: unknown;
}

export interface WebhookReceiver {
  readonly url: string;
  readonly received: ReceivedWebhook[];
  /** Answer with this status instead of 200 (to exercise retries). */
  failWith(status: number | null): void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(secret: string): Promise<WebhookReceiver> {
  const verifier = new Webhook(secret);
  const received: ReceivedWebhook[] = [];
  let failStatus: number | null = null;
  const app = Fastify({ logger: false });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.post('/hook', async (req, reply) => {
    if (failStatus !== null) return reply.code(failStatus).send();
    const headers = req.headers as Record<string, string>;
    let verified = false;
    let body: unknown = null;
    try {
      body = verifier.verify(req.body as string, headers);
      verified = true;
    } catch {
      verified = false;
    }
    received.push({ id: headers['webhook-id'] ?? '', verified, body });
    return reply.code(verified ? 200 : 400).send();
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/hook`;
  return {
    url,
    received,
    failWith: (status) => {
      failStatus = status;
    },
    close: () => app.close(),
  };
}
