// The `source_stats` table (migration 010): per-source figures the collectors write as deltas on
// an interval, summed when read. Parameterised SQL only.
import { chTime, type StoreClient } from './client.js';

export interface SourceFigureRow {
  readonly source: string;
  readonly figure: string;
  readonly label: string;
  readonly count: number;
}

/**
 * Writes one interval's figures, timed by vigil's clock: the same clock `readSourceStats` is asked
 * with, so a ClickHouse server whose clock differs from vigil's host reads the same window.
 */
export async function writeSourceStats(
  client: StoreClient,
  rows: readonly SourceFigureRow[],
  now = Date.now(),
): Promise<void> {
  if (rows.length === 0) return;
  const time = chTime(now);
  await client.insert(
    'source_stats',
    rows.map((r) => ({ time, source: r.source, figure: r.figure, label: r.label, count: r.count })),
  );
}

/** The figures written since `sinceMs` (epoch ms, vigil's clock), summed per source, figure and label. */
export async function readSourceStats(client: StoreClient, sinceMs: number): Promise<SourceFigureRow[]> {
  const rows = await client.query<{ source: string; figure: string; label: string; count: string }>(
    `SELECT source, figure, label, toString(sum(count)) AS count
            FROM source_stats
            WHERE time >= fromUnixTimestamp64Milli({since:Int64})
            GROUP BY source, figure, label`,
    { since: Math.trunc(sinceMs) },
  );
  return rows.map((r) => ({
    ...r,
    count: Number(r.count),
  }));
}
