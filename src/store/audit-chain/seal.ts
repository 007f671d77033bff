// Sealing a batch: the next chain record over the rows about to be inserted (pure). The per-row
// part (`sealRows`: every row's entry, the key and time ranges) is most of the cost: the writer
// runs it in slices, or on a worker thread where configured (./seal-worker.ts); the record itself
// (`sealRecord`) is a few hashes.
import { runSliced, runToEnd, type Steps } from '../../collectors/slices.js';
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

/** Rows sealed between two points where a sliced run may give the event loop back. */
const ROWS_PER_STEP = 64;

/**
 * The per-row part of sealing (pure), as steps (../../collectors/slices.ts): the writer runs it in
 * slices so that sealing a batch of thousands of rows does not hold the event loop (the
 * collectors' requests and the detectors wait behind it); `sealRows` runs it straight through.
 */
export function* sealRowsSteps(
  shape: TableShape,
  rows: ReadonlyArray<Record<string, unknown>>,
): Steps<SealedRows> {
  const entries: string[] = [];
  let first: string | undefined;
  let last: string | undefined;
  let minTime = Number.POSITIVE_INFINITY;
  let maxTime = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < rows.length; i++) {
    if (i % ROWS_PER_STEP === ROWS_PER_STEP - 1) yield;
    const row = rows[i]!;
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

/** The per-row part of sealing (pure), straight through. */
export function sealRows(shape: TableShape, rows: ReadonlyArray<Record<string, unknown>>): SealedRows {
  return runToEnd(sealRowsSteps(shape, rows));
}

/** Seals a batch's rows, as `sealRows` does, wherever it runs (here, or ./seal-worker.ts). */
export type RowSealer = (
  shape: TableShape,
  rows: ReadonlyArray<Record<string, unknown>>,
) => Promise<SealedRows>;

/**
 * Seals on this thread, in slices of a few milliseconds with a turn of the event loop between
 * them (a batch of 20,000 rows is ~100 ms of hashing): the same answer as sealRows.
 */
export const sealHere: RowSealer = (shape, rows) => runSliced(sealRowsSteps(shape, rows));

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
