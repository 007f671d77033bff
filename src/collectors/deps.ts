// What every collector route needs, passed in by the wiring (src/cli/wiring/collector.ts).
import type { Tokenizer } from '../privacy/index.js';
import type { Logger, Metrics } from '../telemetry/index.js';
import type { SourceAuth } from './auth.js';
import type { AuthFailures } from './auth-failures.js';
import type { Ingest } from './ingest.js';
import type { TraceIdentity } from './otlp/trace-identity.js';
import type { SourceStats } from './source-stats.js';

export interface CollectorDeps {
  /** Registry of every source's bearer tokens (401 none/wrong, 403 another source's). */
  readonly auth: SourceAuth;
  /** Refused credentials: counted, logged, and throttled per address (none: only refused). */
  readonly authFailures?: AuthFailures;
  /** The single exit: resolves once events are durable. */
  readonly ingest: Ingest;
  readonly tokenizer: Tokenizer;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Body limit, applied after decompression too. */
  readonly maxBodyBytes: number;
  /**
   * Items (events, lines, spans) one request may hold; more is refused whole with 413 before
   * any is parsed. @defaultValue DEFAULT_MAX_ITEMS (50000)
   */
  readonly maxItemsPerRequest?: number;
  readonly now?: () => number;
  /**
   * VIGIL_EVENTS_TTL_DAYS: an event older than this many days is refused with its reason (the
   * store would drop it). Absent: no lower bound.
   */
  readonly retentionDays?: number;
  /** OTLP: users carried across a trace (none: each span's own identity, no attribute). */
  readonly traceIdentity?: TraceIdentity;
  /** Per-source received / mapped / rejected figures and unused attribute keys (none: not kept). */
  readonly sourceStats?: SourceStats;
}
