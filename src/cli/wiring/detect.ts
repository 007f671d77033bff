// The detect role: the pipeline's detectors over the event stream, their state checkpointed in
// the store, identities warmed from the rollup, and analyst feedback (given through any process's
// admin API) polled into the finding filter.
import { createDetectors, HISTORY_NEEDS } from '../../../detectors/index.js';
import type { Bus, Subscription } from '../../bus/index.js';
import type { Config } from '../../config/index.js';
import {
  type CheckpointStore,
  createDetectorRuntime,
  type DetectorRuntime,
  decodeState,
  detectorRuntimeOptions,
  encodeState,
  type FindingFilter,
  HELD_EVENTS_CHECKPOINT,
  startDetectStage,
} from '../../detect/index.js';
import { errorMessage, type Finding } from '../../model/index.js';
import {
  type CheckpointRow,
  identityHistory,
  loadCheckpoints,
  loadCheckpointsFor,
  loadFeedback,
  saveCheckpoints,
  type StoreClient,
} from '../../store/index.js';
import { type Logger, type Metrics, observeFindings } from '../../telemetry/index.js';

/** How far back a detector reads the rollup to start an identity warm (the baselines' memory). */
const BOOTSTRAP_LOOKBACK_MS = 21 * 86_400_000;
/** Detector states encoded and inserted at a time by a checkpoint (tens of ms of encoding). */
const CHECKPOINT_SLICE = 5_000;
/** How often feedback recorded by other processes is read. */
const FEEDBACK_POLL_MS = 15_000;

export interface DetectRoleDeps {
  readonly config: Config;
  readonly bus: Bus;
  readonly store: StoreClient;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly filter: FindingFilter;
  readonly onFindings?: (findings: Finding[]) => void;
}

export interface DetectRole {
  readonly runtime: DetectorRuntime;
  readonly subscription: Subscription;
  /** Stops the feedback polling (with the intake). */
  stopPolling(): Promise<void>;
}

export async function startDetectRole(deps: DetectRoleDeps): Promise<DetectRole> {
  const { config, store } = deps;
  const runtime = createDetectorRuntime(
    createDetectors(config.pipeline),
    detectorRuntimeOptions(config.pipeline),
  );
  const subscription = await startDetectStage({
    bus: deps.bus,
    runtime,
    metrics: deps.metrics,
    allowedLatenessMs: config.pipeline.detection.allowed_lateness,
    onFindings: (findings) => {
      observeFindings(findings, deps.metrics);
      deps.onFindings?.(findings);
    },
    checkpoints: checkpointStore(store, runtime),
    onError: (err) => deps.logger.warn({ err: errorMessage(err) }, 'checkpoint failed, will retry'),
    filter: deps.filter,
    history: (tenant, identities) =>
      identityHistory(store, {
        tenant,
        identities,
        windowMs: config.pipeline.detectors['volume-spike'].window,
        lookbackMs: BOOTSTRAP_LOOKBACK_MS,
        needs: HISTORY_NEEDS,
      }),
  });
  const stopPolling = await pollFeedback(deps);
  return { runtime, subscription, stopPolling };
}

/** Detector states in the store, with the events the reorder buffer held (allowed lateness)
 * checkpointed as a pseudo-detector. */
function checkpointStore(store: StoreClient, runtime: DetectorRuntime): CheckpointStore {
  // Names only: counting entities (runtime.entities) walks every state, and this runs every batch.
  const detectors = () => runtime.detectorNames;
  const decoded = (rows: CheckpointRow[]) =>
    rows.map((r) => ({ detector: r.detector, key: r.entity_key, state: decodeState(r.state) }));
  return {
    // A slice is encoded, then inserted, before the next: encoding every changed state at once
    // (~100k at 10k identities) held the event loop for most of a second per checkpoint, a
    // spike in detection latency every interval.
    save: async (entries) => {
      for (let i = 0; i < entries.length; i += CHECKPOINT_SLICE)
        await saveCheckpoints(
          store,
          entries
            .slice(i, i + CHECKPOINT_SLICE)
            .map((e) => ({ detector: e.detector, entity_key: e.key, state: encodeState(e.state) })),
        );
    },
    load: async () => decoded(await loadCheckpoints(store, [...detectors(), HELD_EVENTS_CHECKPOINT])),
    loadKeys: async (keys) => decoded(await loadCheckpointsFor(store, detectors(), keys)),
  };
}

/** Reads feedback once now, then every FEEDBACK_POLL_MS; returns the stop. */
async function pollFeedback(deps: DetectRoleDeps): Promise<() => Promise<void>> {
  let since = Date.now() - deps.config.pipeline.feedback_ttl;
  const poll = async () => {
    const entries = await loadFeedback(deps.store, since);
    if (entries.length) since = entries[entries.length - 1]!.time + 1;
    deps.filter.addFeedback(entries);
  };
  await poll();
  const timer = setInterval(
    () => poll().catch((err) => deps.logger.warn({ err: errorMessage(err) }, 'feedback poll failed')),
    FEEDBACK_POLL_MS,
  );
  timer.unref();
  return async () => clearInterval(timer);
}
