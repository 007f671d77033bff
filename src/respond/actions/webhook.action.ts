// Generic webhook action: POSTs a JSON document signed per Standard Webhooks (webhook-id stable
// across retries, webhook-timestamp of this attempt, webhook-signature v1 HMAC-SHA256).
// 2xx is success; 408/429/5xx and network errors are retried; other 4xx are permanent.
import { Webhook } from 'standardwebhooks';
import { PermanentError, RetriableError } from '../../model/index.js';

export interface WebhookTarget {
  readonly url: string;
  /** `whsec_<base64>` secret(s); during rotation every listed secret signs (space-separated signatures). */
  readonly secrets: readonly string[];
  readonly timeoutMs: number;
}

export interface DeliveryResult {
  readonly status: number;
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
  if (res.status === 408 || res.status === 429 || res.status >= 500)
    throw new RetriableError(`webhook answered ${res.status}`);
  throw new PermanentError(`webhook answered ${res.status}`);
}
