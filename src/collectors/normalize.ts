// Pieces every collector's normalizer shares: event time parsing and the skeleton of an AccessEvent.
import type { AccessEvent } from '../model/index.js';

const MIN_TIME = Date.UTC(2000, 0, 1);
const MAX_FUTURE_MS = 24 * 3_600_000;
const DAY_MS = 86_400_000;

/**
 * The events retention (VIGIL_EVENTS_TTL_DAYS) a normalizer holds event times to: the store drops
 * an event older than it, so a collector refuses it rather than acknowledge an event that is lost.
 */
export interface RetentionBound {
  /** Days of retention; absent: no lower bound (a replay that chose to include expired events). */
  readonly retentionDays?: number;
}

/** The suffix of every retention rejection, by which the rejections are counted. */
const EXPIRED_SUFFIX = 'the store would drop it';

/**
 * The rejection of an event time older than the retention (`now` − `retentionDays` days), naming
 * the field and never the value; undefined when it is within retention or no bound is set.
 */
export function expiredTimeReason(
  field: string,
  time: number,
  now: number,
  bound: RetentionBound,
): string | undefined {
  const days = bound.retentionDays;
  if (days === undefined || time >= now - days * DAY_MS) return undefined;
  return `${field}: older than the events retention (${days} days); ${EXPIRED_SUFFIX}`;
}

/** Whether a rejection reason is one of `expiredTimeReason`'s (ingest_rejected_expired). */
export const isExpiredReason = (reason: string): boolean => reason.endsWith(EXPIRED_SUFFIX);

/** Rejections past retention among `reasons`. */
export function countExpired(reasons: Iterable<{ readonly reason: string }>): number {
  let n = 0;
  for (const r of reasons) if (isExpiredReason(r.reason)) n++;
  return n;
}

/**
 * Event time from an ISO-8601 string or an epoch number (seconds, milliseconds, microseconds or
 * nanoseconds, told apart by magnitude). Undefined when it is no time or implausible.
 */
export function parseEventTime(value: string | number | bigint, now: number): number | undefined {
  let ms: number;
  if (typeof value === 'bigint') ms = Number(value / 1_000_000n);
  else if (typeof value === 'number' || /^\d+(\.\d+)?$/.test(value)) {
    const n = Number(value);
    if (!Number.isFinite(n)) return undefined;
    if (n < 1e11) ms = n * 1000;
    else if (n < 1e14) ms = n;
    else if (n < 1e17) ms = n / 1000;
    else ms = n / 1e6;
  } else ms = Date.parse(value);
  if (!Number.isFinite(ms) || ms < MIN_TIME || ms > now + MAX_FUTURE_MS) return undefined;
  return Math.trunc(ms);
}

/** An AccessEvent with neutral defaults, to be filled by a collector's normalizer. */
export function blankEvent(now: number): AccessEvent {
  return {
    event_id: '',
    time: now,
    observed_time: now,
    tenant: '',
    source: 'generic',
    actor: '',
    actor_type: 'unknown',
    credential: '',
    session: '',
    src_ip: '',
    src_net: '',
    client: '',
    system: '',
    operation: 'other',
    operation_raw: '',
    collection: '',
    namespace: '',
    // Unknown until the source reports them (null, not 0: no baseline learns from them).
    top_k: null,
    returned: null,
    vectors_returned: null,
    bytes_out: null,
    outcome: 'allowed',
    status_code: 0,
    error_type: '',
    masked: false,
    review: false,
    blocked: false,
    latency_ms: 0,
    query_hash: '',
    trace_id: '',
    span_id: '',
    attributes: {},
  };
}

export function outcomeFromStatus(status: number | undefined): AccessEvent['outcome'] {
  if (status === undefined || status === 0) return 'allowed';
  if (status === 401 || status === 403) return 'denied';
  if (status >= 400) return 'error';
  return 'allowed';
}
