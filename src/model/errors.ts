// Typed infrastructure errors. Callers check `name`, not `instanceof`, so errors survive
// crossing module or worker boundaries.
export class RetriableError extends Error {
  override readonly name = 'RetriableError';
}

export class PermanentError extends Error {
  override readonly name = 'PermanentError';
}

/** A request the pipeline cannot take now (full buffers, broker down): senders should retry later. */
export class BackpressureError extends Error {
  override readonly name = 'BackpressureError';
  constructor(
    message: string,
    readonly retryAfterSeconds = 1,
    /** `saturated`: vigil's own buffers are full (429); `unavailable`: a dependency is down (503). */
    readonly kind: 'saturated' | 'unavailable' = 'unavailable',
  ) {
    super(message);
  }
}

/** A failure that may pass on a later attempt (typed retriable, or the pipeline pushing back). */
export function isRetriable(err: unknown): boolean {
  return err instanceof Error && (err.name === 'RetriableError' || err.name === 'BackpressureError');
}

/** A failure that will not pass on a later attempt: not retried, a batch is bisected instead. */
export function isPermanent(err: unknown): boolean {
  return err instanceof Error && err.name === 'PermanentError';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
