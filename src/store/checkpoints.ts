// Detector state checkpoints in ClickHouse.
import type { StoreClient } from './client.js';

export interface CheckpointRow {
  readonly detector: string;
  readonly entity_key: string;
  readonly state: string;
}

export async function saveCheckpoints(client: StoreClient, rows: CheckpointRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 10_000)
    await client.insert(
      'detector_state',
      rows.slice(i, i + 10_000).map((r) => ({ ...r })),
    );
}

export async function loadCheckpoints(
  client: StoreClient,
  detectors: readonly string[],
): Promise<CheckpointRow[]> {
  return client.query<CheckpointRow>(
    'SELECT detector, entity_key, state FROM detector_state FINAL WHERE detector IN {detectors:Array(String)}',
    { detectors },
  );
}

/** The latest checkpoints of these entity keys (of these detectors): a lazy load after a rebalance. */
export async function loadCheckpointsFor(
  client: StoreClient,
  detectors: readonly string[],
  keys: string[],
): Promise<CheckpointRow[]> {
  if (keys.length === 0) return [];
  return client.query<CheckpointRow>(
    'SELECT detector, entity_key, state FROM detector_state FINAL ' +
      'WHERE detector IN {detectors:Array(String)} AND entity_key IN {keys:Array(String)}',
    { detectors, keys },
  );
}
