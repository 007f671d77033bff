// The per-key comparison of stored rows with the recorded entries (pure), as tallies that add up
// across disjoint key sets. The rules are in index.ts.
import type { ChainRecord } from './chain-record.js';
import { KEY_HASH_CHARS } from './digest.js';
import type { Problem } from './problem.js';
import type { TableShape } from './shape.js';

export interface StoredRowEntry {
  readonly key: string;
  readonly entry: string;
  /** Epoch ms the row was stored (0 when the table does not say). */
  readonly stored?: number;
}

/** What the row comparison needs of a recorded batch. */
export type RecordedBatch = Pick<ChainRecord, 'batch_seq' | 'time' | 'min_time' | 'entries'>;
export type BatchInfo = Omit<RecordedBatch, 'entries'>;

export interface CheckRowsOptions {
  /** Whether a batch's rows may have been dropped by retention. */
  readonly expired?: (batch: BatchInfo) => boolean;
  /** Whether a batch's rows were all scanned (with --since, older ones were not). */
  readonly inScope?: (batch: BatchInfo) => boolean;
  /** Whether a row no batch recorded is reported (with --since, only rows stored since). */
  readonly reportUncovered?: (row: StoredRowEntry) => boolean;
}

/** Rows found wrong, per batch: what `checkRows` reports, in a form that adds up across parts. */
export interface RowTally {
  readonly modified: Map<number, number>;
  readonly deleted: Map<number, number>;
  readonly duplicated: Map<number, number>;
  uncovered: number;
  /** The keys of the first few uncovered rows (shown in the report). */
  readonly uncoveredKeys: string[];
}

const UNCOVERED_EXAMPLES = 3;

export function emptyTally(): RowTally {
  return { modified: new Map(), deleted: new Map(), duplicated: new Map(), uncovered: 0, uncoveredKeys: [] };
}

const bump = (m: Map<number, number>, seq: number, n = 1) => m.set(seq, (m.get(seq) ?? 0) + n);

/** Adds `part` into `into`: the rules are per key, so tallies of disjoint key sets simply add. */
export function addTally(into: RowTally, part: RowTally): RowTally {
  for (const k of ['modified', 'deleted', 'duplicated'] as const)
    for (const [seq, n] of part[k]) bump(into[k], seq, n);
  into.uncovered += part.uncovered;
  for (const key of part.uncoveredKeys)
    if (into.uncoveredKeys.length < UNCOVERED_EXAMPLES) into.uncoveredKeys.push(key);
  return into;
}

/** Compares stored rows with the recorded entries (pure); see the rules in index.ts. */
export function checkRows(
  shape: Pick<TableShape, 'table' | 'folds'>,
  records: readonly RecordedBatch[],
  rows: Iterable<StoredRowEntry>,
  opts: CheckRowsOptions = {},
): Problem[] {
  return rowProblems(shape.table, tallyRows(shape, records, rows, opts));
}

/**
 * The per-key comparison behind `checkRows`. Every rule looks at one sorting key at a time, so
 * the rows and entries can be split by key hash and the parts' tallies added (`addTally`).
 */
export function tallyRows(
  shape: Pick<TableShape, 'table' | 'folds'>,
  records: readonly RecordedBatch[],
  rows: Iterable<StoredRowEntry>,
  opts: CheckRowsOptions = {},
): RowTally {
  const inScope = opts.inScope ?? (() => true);
  interface Coverage {
    /** Recorded copies of each content digest: all batches, and batches in scope. */
    readonly leaves: Map<string, number>;
    readonly scoped: Map<string, number>;
    latest: string;
    latestBatch: BatchInfo;
  }
  const coverage = new Map<string, Coverage>();
  for (const r of [...records].sort((a, b) => a.batch_seq - b.batch_seq)) {
    const scoped = inScope(r);
    for (const e of r.entries) {
      const kh = e.slice(0, KEY_HASH_CHARS);
      const leaf = e.slice(KEY_HASH_CHARS);
      let c = coverage.get(kh);
      if (!c) {
        c = { leaves: new Map(), scoped: new Map(), latest: leaf, latestBatch: r };
        coverage.set(kh, c);
      }
      c.leaves.set(leaf, (c.leaves.get(leaf) ?? 0) + 1);
      if (scoped) c.scoped.set(leaf, (c.scoped.get(leaf) ?? 0) + 1);
      c.latest = leaf;
      c.latestBatch = r;
    }
  }
  const tally = emptyTally();
  const present = new Map<string, Map<string, number>>();
  const foreign = new Set<string>();
  for (const row of rows) {
    const kh = row.entry.slice(0, KEY_HASH_CHARS);
    const leaf = row.entry.slice(KEY_HASH_CHARS);
    const c = coverage.get(kh);
    if (!c) {
      if (opts.reportUncovered?.(row) ?? true) {
        tally.uncovered++;
        if (tally.uncoveredKeys.length < UNCOVERED_EXAMPLES) tally.uncoveredKeys.push(row.key);
      }
      continue;
    }
    if (!c.leaves.has(leaf)) foreign.add(kh);
    let p = present.get(kh);
    if (!p) {
      p = new Map();
      present.set(kh, p);
    }
    p.set(leaf, (p.get(leaf) ?? 0) + 1);
  }
  const { modified, deleted, duplicated } = tally;
  for (const [kh, c] of coverage) {
    const batch = c.latestBatch;
    const p = present.get(kh);
    if (foreign.has(kh)) {
      bump(modified, batch.batch_seq);
      continue;
    }
    if (!inScope(batch) && !shape.folds && c.scoped.size === 0) continue;
    if (!p) {
      if (inScope(batch) && !opts.expired?.(batch)) bump(deleted, batch.batch_seq);
      continue;
    }
    if (shape.folds) {
      // The newest recorded version must survive; an older one in its place is a roll-back.
      if (inScope(batch) && !p.has(c.latest)) bump(modified, batch.batch_seq);
      continue;
    }
    // Nothing folds: every recorded copy is stored, and no more copies than were recorded.
    for (const [leaf, n] of c.scoped) {
      const have = p.get(leaf) ?? 0;
      if (have < n && !opts.expired?.(batch)) bump(deleted, batch.batch_seq, n - have);
    }
    for (const [leaf, have] of p) {
      const n = c.leaves.get(leaf) ?? 0;
      if (have > n) bump(duplicated, batch.batch_seq, have - n);
    }
  }
  return tally;
}

/** The problems a tally stands for, batches in order. */
export function rowProblems(table: string, tally: RowTally): Problem[] {
  const problems: Problem[] = [];
  const plural = (n: number) => (n === 1 ? 'row' : 'rows');
  const sorted = (m: Map<number, number>) => [...m].sort((a, b) => a[0] - b[0]);
  for (const [batch, n] of sorted(tally.modified))
    problems.push({
      table,
      kind: 'modified',
      batch,
      rows: n,
      detail: `${n} ${plural(n)} changed since batch ${batch} stored them`,
    });
  for (const [batch, n] of sorted(tally.deleted))
    problems.push({
      table,
      kind: 'deleted',
      batch,
      rows: n,
      detail: `${n} ${plural(n)} of batch ${batch} are missing`,
    });
  for (const [batch, n] of sorted(tally.duplicated))
    problems.push({
      table,
      kind: 'inserted',
      batch,
      rows: n,
      detail: `${n} extra ${n === 1 ? 'copy' : 'copies'} of rows of batch ${batch}`,
    });
  const n = tally.uncovered;
  if (n)
    problems.push({
      table,
      kind: 'inserted',
      rows: n,
      detail: `${n} ${plural(n)} that no batch recorded, e.g. key ${tally.uncoveredKeys.join(' ')}`,
    });
  return problems;
}
