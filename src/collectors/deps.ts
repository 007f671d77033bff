// What every collector route needs, passed in by the wiring (src/cli/app.ts).
import type { Tokenizer } from '../privacy/index.js';
import type { Logger, Metrics } from '../telemetry/index.js';
import type { SourceAuth } from './auth.js';
import type { Ingest } from './ingest.js';

export interface CollectorDeps {
  /** Registry of every source's bearer tokens (401 none/wrong, 403 another source's). */
  readonly auth: SourceAuth;
  /** The single exit: resolves once events are durable. */
  readonly ingest: Ingest;
  readonly tokenizer: Tokenizer;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Body limit, applied after decompression too. */
  readonly maxBodyBytes: number;
  readonly now?: () => number;
}
