// Detector state checkpoints in ClickHouse.
import { insertRows, type StoreClient } from './client.js';

export interface CheckpointRow {
  readonly detector: string;
  readonly entity_key: string;
  readonly state: string;
}

export async function saveCheckpoints(client: StoreClient, rows: CheckpointRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 10_000)
    await insertRows(
      client,
      'detector_state',
      rows.slice(i, i + 10_000).map((r) => ({ ...r })),
    );
}

export async function loadCheckpoints(client: StoreClient, detectors: string[]): Promise<CheckpointRow[]> {
  const rs = await client.query({
    query:
      'SELECT detector, entity_key, state FROM detector_state FINAL WHERE detector IN {detectors:Array(String)}',
    query_params: { detectors },
    format: 'JSONEachRow',
  });
  return rs.json<CheckpointRow>();
}

/** The latest checkpoints of these entity keys (of these detectors): a lazy load after a rebalance. */
export async function loadCheckpointsFor(
  client: StoreClient,
  detectors: string[],
  keys: string[],
): Promise<CheckpointRow[]> {
  if (keys.length === 0) return [];
  const rs = await client.query({
    query:
      'SELECT detector, entity_key, state FROM detector_state FINAL ' +
      'WHERE detector IN {detectors:Array(String)} AND entity_key IN {keys:Array(String)}',
    query_params: { detectors, keys },
    format: 'JSONEachRow',
  });
  return rs.json<CheckpointRow>();
}
