// The `source_stats` table (migration 010): per-source figures the collectors write as deltas on
// an interval, summed when read. Parameterised SQL only.
import { chTime, insertRows, type StoreClient } from './client.js';

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
  await insertRows(
    client,
    'source_stats',
    rows.map((r) => ({ time, source: r.source, figure: r.figure, label: r.label, count: r.count })),
  );
}

/** The figures written since `sinceMs` (epoch ms, vigil's clock), summed per source, figure and label. */
export async function readSourceStats(client: StoreClient, sinceMs: number): Promise<SourceFigureRow[]> {
  const rs = await client.query({
    query: `SELECT source, figure, label, toString(sum(count)) AS count
            FROM source_stats
            WHERE time >= fromUnixTimestamp64Milli({since:Int64})
            GROUP BY source, figure, label`,
    query_params: { since: Math.trunc(sinceMs) },
    format: 'JSONEachRow',
  });
  return (await rs.json<{ source: string; figure: string; label: string; count: string }>()).map((r) => ({
    ...r,
    count: Number(r.count),
  }));
}
