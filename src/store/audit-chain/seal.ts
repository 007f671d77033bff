// Sealing a batch: the next chain record over the rows about to be inserted (pure). The per-row
// part (`sealRows`: every row's entry, the key and time ranges) is most of the cost and may run on
// a worker thread (./seal-worker.ts); the record itself (`sealRecord`) is a few hashes.
import type { ChainPosition, ChainRecord } from './chain-record.js';
import { batchDigest, chainMac, entryOf, nextHead } from './digest.js';
import type { TableShape } from './shape.js';

/** What a batch's rows contribute to its chain record. */
export interface SealedRows {
  /** One entry per row (key hash ‖ content digest), in insertion order. */
  readonly entries: string[];
  /** Smallest and largest row key ('' for no rows). */
  readonly firstKey: string;
  readonly lastKey: string;
  /** Range of the TTL column in epoch ms (0 when the table has none or no row has a time). */
  readonly minTime: number;
  readonly maxTime: number;
}

/** Where the record goes: its chain, the position it extends, the chain's key and the time. */
export interface SealAt {
  readonly chain: string;
  readonly prev: ChainPosition;
  readonly key: Buffer;
  readonly now: number;
}

/** The per-row part of sealing (pure). */
export function sealRows(shape: TableShape, rows: ReadonlyArray<Record<string, unknown>>): SealedRows {
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
  return {
    entries,
    firstKey: first ?? '',
    lastKey: last ?? '',
    minTime: Number.isFinite(minTime) ? minTime : 0,
    maxTime: Number.isFinite(maxTime) ? maxTime : 0,
  };
}

/** The chain record over sealed rows (pure). */
export function sealRecord(table: string, sealed: SealedRows, at: SealAt): ChainRecord {
  const digest = batchDigest(table, sealed.entries);
  const seq = at.prev.seq + 1;
  const head = nextHead(at.prev.head, digest);
  return {
    tbl: table,
    chain: at.chain,
    batch_seq: seq,
    time: at.now,
    row_count: sealed.entries.length,
    first_key: sealed.firstKey,
    last_key: sealed.lastKey,
    min_time: sealed.minTime,
    max_time: sealed.maxTime,
    entries: sealed.entries,
    batch_digest: digest,
    prev_head: at.prev.head,
    head,
    mac: chainMac(at.key, table, at.chain, seq, head),
  };
}

/** Seals the next record of a chain over rows (pure). */
export function sealBatch(
  shape: TableShape,
  rows: ReadonlyArray<Record<string, unknown>>,
  at: SealAt,
): ChainRecord {
  return sealRecord(shape.table, sealRows(shape, rows), at);
}
