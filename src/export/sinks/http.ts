// What HTTP-based sinks share: a POST with a timeout, and the mapping of HTTP answers onto
// retriable / permanent failures.
import { PermanentError } from '../../model/index.js';
import { RetryLaterError } from '../sink.js';

export interface HttpPostOptions {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly timeoutMs: number;
  /** Names the sink in error messages. */
  readonly what: string;
}

export interface HttpAnswer {
  readonly status: number;
  readonly text: string;
}

/** POSTs; network failures and timeouts are retriable. */
export async function httpPost(o: HttpPostOptions): Promise<HttpAnswer> {
  let res: Response;
  try {
    res = await fetch(o.url, {
      method: 'POST',
      headers: o.headers,
      body: o.body,
      signal: AbortSignal.timeout(o.timeoutMs),
    });
  } catch (err) {
    throw new RetryLaterError(`${o.what}: ${(err as Error).cause ?? (err as Error).message}`);
  }
  const text = await res.text().catch(() => '');
  if (res.status >= 200 && res.status < 300) return { status: res.status, text };
  throw httpFailure(o.what, res.status, text, res.headers.get('retry-after'));
}

/**
 * 408/429/5xx: the server may take it later. 401/403/404: the sink is misconfigured (token, URL);
 * retried too — dropping records because a token expired would lose them. Other 4xx: this batch
 * is refused (the delivery loop bisects it to find the bad records).
 */
export function httpFailure(what: string, status: number, body: string, retryAfter: string | null): Error {
  const detail = `${what} answered ${status}: ${body.slice(0, 300)}`;
  if (status === 408 || status === 429 || status >= 500)
    return new RetryLaterError(detail, retryAfterMs(retryAfter));
  if (status === 401 || status === 403 || status === 404)
    return new RetryLaterError(`${detail} (check the sink's URL and credentials)`);
  return new PermanentError(detail);
}

function retryAfterMs(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
