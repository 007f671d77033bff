// Sealing a batch: the next chain record over the rows about to be inserted (pure).
import type { ChainPosition, ChainRecord } from './chain-record.js';
import { batchDigest, chainMac, entryOf, nextHead } from './digest.js';
import type { TableShape } from './shape.js';

/** Seals the next record of a chain over rows (pure). */
export function sealBatch(
  shape: TableShape,
  rows: ReadonlyArray<Record<string, unknown>>,
  at: { chain: string; prev: ChainPosition; key: Buffer; now: number },
): ChainRecord {
  const entries: string[] = [];
  let first: string | undefined;
  let last: string | undefined;
  let minTime = Number.POSITIVE_INFINITY;
  let maxTime = Number.NEGATIVE_INFINITY;
  for (const row of rows) {
    const { entry, key } = entryOf(shape, row);
    entries.push(entry);
    if (first === undefined || key < first) first = key;
    if (last === undefined || key > last) last = key;
    if (shape.ttl) {
      const t = Date.parse(`${String(row[shape.ttl.column])}Z`.replace(' ', 'T'));
      if (Number.isFinite(t)) {
        minTime = Math.min(minTime, t);
        maxTime = Math.max(maxTime, t);
      }
    }
  }
  const digest = batchDigest(shape.table, entries);
  const seq = at.prev.seq + 1;
  const head = nextHead(at.prev.head, digest);
  return {
    tbl: shape.table,
    chain: at.chain,
    batch_seq: seq,
    time: at.now,
    row_count: entries.length,
    first_key: first ?? '',
    last_key: last ?? '',
    min_time: Number.isFinite(minTime) ? minTime : 0,
    max_time: Number.isFinite(maxTime) ? maxTime : 0,
    entries,
    batch_digest: digest,
    prev_head: at.prev.head,
    head,
    mac: chainMac(at.key, shape.table, at.chain, seq, head),
  };
}
