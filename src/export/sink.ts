// The contract every SIEM sink implements, and the delivery loop around it: retries with backoff
// (forever by default: an export is at-least-once, so a batch is re-sent until the SIEM takes it),
// bisection of batches the SIEM refuses as malformed until the bad records are isolated.
import { type Backoff, backoffDelayMs, errorMessage, isPermanent, RetriableError } from '../model/index.js';
import type { ExportRecord } from './record.js';

export interface RejectedRecord {
  readonly record: ExportRecord;
  readonly reason: string;
}

/** What a sink reports for a batch it was able to talk about. */
export interface SendResult {
  /** Records the SIEM could not take now (e.g. per-item 429 in a `_bulk` answer): sent again. */
  readonly retry: readonly ExportRecord[];
  /** Records the SIEM refused for good (e.g. a mapping error): recorded, never re-sent. */
  readonly rejected: readonly RejectedRecord[];
}

export const DELIVERED: SendResult = Object.freeze({ retry: [], rejected: [] });

/**
 * One SIEM destination. `send` resolves once the SIEM acknowledged the batch (an HTTP 2xx, a
 * socket write flushed); it throws `RetriableError` when the batch may succeed later and
 * `PermanentError` when the batch as a whole is refused (the caller bisects it).
 */
export interface ExportSink {
  /** Stable name: the checkpoint key. */
  readonly name: string;
  send(records: readonly ExportRecord[]): Promise<SendResult>;
  close(): Promise<void>;
}

/** A retriable failure with the server's own wait (Retry-After). */
export class RetryLaterError extends RetriableError {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export interface RetryPolicy {
  /** @defaultValue 200 */
  readonly baseMs?: number;
  /** @defaultValue 30000 */
  readonly capMs?: number;
  /** Give up (throw) after this many failed attempts of one batch. @defaultValue unbounded */
  readonly maxAttempts?: number;
  readonly signal?: AbortSignal;
  readonly onRetry?: (err: unknown, attempt: number, waitMs: number) => void;
}

/**
 * The policy as the shared backoff: the first retry waits up to twice `baseMs` (how this loop has
 * always counted; kept so configured delays did not move), doubling to `capMs`, jittered.
 */
export function exportBackoff(policy: RetryPolicy): Backoff {
  return { baseMs: 2 * (policy.baseMs ?? 200), capMs: policy.capMs ?? 30_000, jitter: 'equal' };
}

export interface DeliveryReport {
  delivered: number;
  rejected: RejectedRecord[];
  retries: number;
}

/** Delivers every record (or isolates it as rejected); resolves only when nothing is left to send. */
export async function deliver(
  sink: ExportSink,
  records: readonly ExportRecord[],
  policy: RetryPolicy = {},
): Promise<DeliveryReport> {
  const report: DeliveryReport = { delivered: 0, rejected: [], retries: 0 };
  await deliverPart(sink, records, policy, report);
  return report;
}

async function deliverPart(
  sink: ExportSink,
  records: readonly ExportRecord[],
  policy: RetryPolicy,
  report: DeliveryReport,
): Promise<void> {
  let pending = records;
  let attempt = 0;
  while (pending.length > 0) {
    policy.signal?.throwIfAborted();
    let wait: number;
    try {
      const result = await sink.send(pending);
      report.rejected.push(...result.rejected);
      report.delivered += pending.length - result.retry.length - result.rejected.length;
      if (result.retry.length === 0) return;
      pending = result.retry;
      attempt++;
      wait = backoffDelayMs(attempt, exportBackoff(policy));
      policy.onRetry?.(new RetriableError(`${result.retry.length} record(s) to retry`), attempt, wait);
    } catch (err) {
      if (isPermanent(err)) {
        if (pending.length === 1) {
          report.rejected.push({ record: pending[0]!, reason: errorMessage(err) });
          return;
        }
        // Bisect: the good halves get through, the bad record ends up alone and rejected.
        const mid = pending.length >> 1;
        await deliverPart(sink, pending.slice(0, mid), policy, report);
        await deliverPart(sink, pending.slice(mid), policy, report);
        return;
      }
      // Anything else (typed retriable, a network TypeError, a timeout) may pass next time.
      attempt++;
      if (policy.maxAttempts !== undefined && attempt >= policy.maxAttempts) throw err;
      const hinted = (err as { retryAfterMs?: number }).retryAfterMs;
      wait =
        hinted !== undefined
          ? Math.min(hinted, policy.capMs ?? 30_000)
          : backoffDelayMs(attempt, exportBackoff(policy));
      policy.onRetry?.(err, attempt, wait);
    }
    report.retries++;
    await sleep(wait, policy.signal);
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
