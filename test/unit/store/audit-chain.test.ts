// The audit chain's math: canonical row content, digests, the hash chain and its HMAC, and the
// per-key comparison of stored rows with recorded batches (modified, deleted, inserted, folded).
import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addTally,
  batchDigest,
  type ChainRecord,
  canonicalRow,
  canonicalValue,
  checkChain,
  checkRows,
  chainMac,
  emptyTally,
  entryOf,
  genesisHead,
  type HeadFile,
  nextHead,
  rowProblems,
  sealBatch,
  type TableShape,
  tallyRows,
} from '../../../src/store/audit-chain/index.js';

const shape: TableShape = {
  table: 'events',
  columns: [
    { name: 'attributes', type: 'Map(LowCardinality(String), String)' },
    { name: 'bytes_out', type: 'UInt64' },
    { name: 'collection', type: 'LowCardinality(String)' },
    { name: 'event_id', type: 'String' },
    { name: 'latency_ms', type: 'Float32' },
    { name: 'masked', type: 'Bool' },
    { name: 'tenant', type: 'LowCardinality(String)' },
    { name: 'time', type: "DateTime64(3, 'UTC')" },
  ],
  keyColumns: [
    { name: 'tenant', type: 'LowCardinality(String)' },
    { name: 'time', type: "DateTime64(3, 'UTC')" },
    { name: 'event_id', type: 'String' },
  ],
  folds: true,
};
const plain: TableShape = { ...shape, table: 'actions', folds: false };
const key = randomBytes(32);
const CHAIN = 'c1';

let n = 0;
function row(over: Record<string, unknown> = {}): Record<string, unknown> {
  n++;
  return {
    event_id: `e${n}`,
    tenant: 't',
    time: '2026-11-20 10:00:00.000',
    collection: 'docs',
    latency_ms: 3.3,
    bytes_out: 1000,
    masked: false,
    attributes: { b: '2', a: '1' },
    ...over,
  };
}

/** Seals batches one after another, as the writer does. */
function chainOf(s: TableShape, batches: Array<Array<Record<string, unknown>>>): ChainRecord[] {
  const out: ChainRecord[] = [];
  let prev = { seq: 0, head: genesisHead(s.table, CHAIN) };
  for (const rows of batches) {
    const r = sealBatch(s, rows, { chain: CHAIN, prev, key, now: 1_000 + out.length });
    out.push(r);
    prev = { seq: r.batch_seq, head: r.head };
  }
  return out;
}

const stored = (s: TableShape, rows: Array<Record<string, unknown>>) =>
  rows.map((r) => {
    const { entry, key: k } = entryOf(s, r);
    return { entry, key: k };
  });

function headOf(r: ChainRecord): HeadFile {
  return {
    table: r.tbl,
    chain: r.chain,
    seq: r.batch_seq,
    head: r.head,
    time: r.time,
    mac: chainMac(key, r.tbl, r.chain, r.batch_seq, r.head),
  };
}

describe('canonical values: equal whether sent or read back', () => {
  it('rounds Float32 as the column stores it (0.1 read back as 0.1 equals 0.1 sent)', () => {
    expect(canonicalValue('Float32', 0.1)).toBe(canonicalValue('Float32', Number('0.1')));
    expect(canonicalValue('Float32', 0.1)).toBe(Math.fround(0.1));
    expect(canonicalValue('Float64', 0.1)).toBe(0.1);
  });

  it('reads 64-bit integers as decimal strings, quoted or not', () => {
    expect(canonicalValue('UInt64', 12345678901234)).toBe('12345678901234');
    expect(canonicalValue('UInt64', '12345678901234')).toBe('12345678901234');
  });

  it('sorts map entries and unwraps LowCardinality / Nullable', () => {
    expect(canonicalValue('Map(LowCardinality(String), Float64)', { b: 2, a: 1 })).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    expect(canonicalValue('LowCardinality(Nullable(String))', null)).toBeNull();
    expect(canonicalValue('Array(LowCardinality(String))', undefined)).toEqual([]);
  });

  it('turns lone surrogates into U+FFFD, as the writer stores them', () => {
    expect(canonicalValue('String', 'a\ud800b')).toBe('a\ufffdb');
  });

  it('treats an absent value as the zero value, so a later zero-default column changes nothing', () => {
    const r = row();
    const withColumn: TableShape = {
      ...shape,
      columns: [...shape.columns, { name: 'suppressed', type: 'String' }],
    };
    expect(canonicalRow(withColumn, { ...r, suppressed: '' })).toBe(canonicalRow(shape, r));
    expect(canonicalRow(withColumn, { ...r, suppressed: 'rule' })).not.toBe(canonicalRow(shape, r));
  });

  it('ignores fields that are not columns, and column order in the source object', () => {
    const r = row();
    const reordered = Object.fromEntries(Object.entries(r).reverse());
    expect(canonicalRow(shape, { ...reordered, not_a_column: 1 })).toBe(canonicalRow(shape, r));
  });

  it("tells a text column's '0' from its empty value (the text '0' is content, not zero)", () => {
    const base = row();
    const empty = entryOf(shape, { ...base, collection: '' }).entry;
    expect(entryOf(shape, { ...base, collection: '0' }).entry).not.toBe(empty);
    expect(entryOf(shape, { ...base, collection: undefined }).entry).toBe(empty);
  });

  it('changes the row digest for any change of content', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        fc.pre(a !== b && canonicalValue('String', a) !== canonicalValue('String', b));
        const base = row();
        expect(entryOf(shape, { ...base, collection: a }).entry).not.toBe(
          entryOf(shape, { ...base, collection: b }).entry,
        );
      }),
    );
  });
});

describe('the hash chain', () => {
  it('links each head to the previous: head = sha256(prev_head ‖ batch_digest)', () => {
    const [a, b] = chainOf(shape, [[row(), row()], [row()]]);
    expect(a!.prev_head).toBe(genesisHead('events', CHAIN));
    expect(a!.batch_digest).toBe(batchDigest('events', a!.entries));
    expect(a!.head).toBe(
      createHash('sha256')
        .update(a!.prev_head + a!.batch_digest)
        .digest('hex'),
    );
    expect(b!.prev_head).toBe(a!.head);
    expect(b!.head).toBe(nextHead(a!.head, b!.batch_digest));
    expect([a!.batch_seq, b!.batch_seq]).toEqual([1, 2]);
    expect(a!.row_count).toBe(2);
  });

  it('records the first and last sorting key of the batch', () => {
    const [a] = chainOf(shape, [[row({ event_id: 'b' }), row({ event_id: 'a' })]]);
    expect(JSON.parse(a!.first_key)).toEqual(['t', '2026-11-20 10:00:00.000', 'a']);
    expect(JSON.parse(a!.last_key)).toEqual(['t', '2026-11-20 10:00:00.000', 'b']);
  });

  it('is intact when records, key and head file agree', () => {
    const records = chainOf(shape, [[row()], [row()], [row()]]);
    expect(checkChain('events', CHAIN, records, { key, head: headOf(records[2]!) })).toEqual([]);
  });

  it('names a record whose entries were rewritten', () => {
    const records = chainOf(shape, [[row()], [row()], [row()]]);
    const forged = { ...records[1]!, entries: [entryOf(shape, row()).entry] };
    const problems = checkChain('events', CHAIN, [records[0]!, forged, records[2]!], {
      key,
      head: headOf(records[2]!),
    });
    expect(problems.map((p) => [p.kind, p.batch])).toEqual([['record-modified', 2]]);
  });

  it('catches a chain rewritten consistently without the key (HMAC)', () => {
    const records = chainOf(shape, [[row()], [row()]]);
    const otherKey = randomBytes(32);
    // An attacker re-seals batch 2 over other rows: the links hold, the HMAC does not.
    const resealed = sealBatch(shape, [row()], {
      chain: CHAIN,
      prev: { seq: 1, head: records[0]!.head },
      key: otherKey,
      now: 5,
    });
    const problems = checkChain('events', CHAIN, [records[0]!, resealed], { key, head: headOf(records[1]!) });
    expect(problems.map((p) => p.kind)).toContain('mac-invalid');
    expect(problems.map((p) => p.kind)).toContain('head-mismatch');
  });

  it('names deleted records: a gap, or a tail the head file remembers', () => {
    const records = chainOf(shape, [[row()], [row()], [row()], [row()]]);
    const gap = checkChain('events', CHAIN, [records[0]!, records[2]!, records[3]!], {
      key,
      head: headOf(records[3]!),
    });
    expect(gap.map((p) => [p.kind, p.batch])).toContainEqual(['chain-broken', 2]);
    const tail = checkChain('events', CHAIN, records.slice(0, 2), { key, head: headOf(records[3]!) });
    expect(tail.map((p) => [p.kind, p.batch])).toEqual([['head-mismatch', 4]]);
  });

  it('detects an edited head file', () => {
    const records = chainOf(shape, [[row()]]);
    const edited = { ...headOf(records[0]!), head: 'f'.repeat(64) };
    const kinds = checkChain('events', CHAIN, records, { key, head: edited }).map((p) => p.kind);
    expect(kinds).toEqual(['mac-invalid', 'head-mismatch']);
  });
});

describe('stored rows against recorded batches', () => {
  it('is intact when every recorded row is stored', () => {
    const batches = [[row(), row()], [row()]];
    expect(checkRows(shape, chainOf(shape, batches), stored(shape, batches.flat()))).toEqual([]);
  });

  it('names the batch of a modified row', () => {
    const batches = [
      [row(), row()],
      [row(), row()],
    ];
    const rows = batches.flat().map((r, i) => (i === 2 ? { ...r, collection: 'tampered' } : r));
    const problems = checkRows(shape, chainOf(shape, batches), stored(shape, rows));
    expect(problems.map((p) => [p.kind, p.batch, p.rows])).toEqual([['modified', 2, 1]]);
  });

  it('names the batch of a deleted row', () => {
    const batches = [
      [row(), row()],
      [row(), row()],
    ];
    const rows = batches.flat().filter((_, i) => i !== 1);
    const problems = checkRows(shape, chainOf(shape, batches), stored(shape, rows));
    expect(problems.map((p) => [p.kind, p.batch, p.rows])).toEqual([['deleted', 1, 1]]);
  });

  it('reports a row no batch recorded as inserted, with its key', () => {
    const batches = [[row()]];
    const forged = row({ event_id: 'forged' });
    const problems = checkRows(shape, chainOf(shape, batches), stored(shape, [...batches.flat(), forged]));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ kind: 'inserted', rows: 1 });
    expect(problems[0]!.detail).toContain('forged');
  });

  it('does not mistake a redelivered batch, folded or not yet folded, for tampering', () => {
    const first = [row(), row()];
    // Redelivered later with a newer observation (a re-sent request): same keys, new content.
    const again = first.map((r) => ({ ...r, latency_ms: 9 }));
    const rest = [row()];
    const recs = chainOf(shape, [first, rest, again]);
    // Before the merge: both versions stored. After: only the newest.
    expect(checkRows(shape, recs, stored(shape, [...first, ...rest, ...again]))).toEqual([]);
    expect(checkRows(shape, recs, stored(shape, [...rest, ...again]))).toEqual([]);
    // An identical redelivery that ClickHouse dropped as a duplicate: recorded twice, stored once.
    const twice = chainOf(shape, [first, first]);
    expect(checkRows(shape, twice, stored(shape, first))).toEqual([]);
  });

  it('reports a key rolled back to an older version (the newest one deleted)', () => {
    const first = [row()];
    const newer = first.map((r) => ({ ...r, collection: 'v2' }));
    const recs = chainOf(shape, [first, newer]);
    const problems = checkRows(shape, recs, stored(shape, first));
    expect(problems.map((p) => [p.kind, p.batch])).toEqual([['modified', 2]]);
  });

  it('on a table that does not fold, holds the exact recorded copies', () => {
    const a = [row(), row()];
    const recs = chainOf(plain, [a]);
    expect(checkRows(plain, recs, stored(plain, a))).toEqual([]);
    expect(checkRows(plain, recs, stored(plain, [...a, a[0]!])).map((p) => p.kind)).toEqual(['inserted']);
    expect(checkRows(plain, recs, stored(plain, [a[0]!])).map((p) => [p.kind, p.batch])).toEqual([
      ['deleted', 1],
    ]);
  });

  it('does not report rows retention may have dropped', () => {
    const batches = [[row()], [row()]];
    const recs = chainOf(shape, batches);
    const problems = checkRows(shape, recs, [], { expired: (b) => b.batch_seq === 1 });
    expect(problems.map((p) => [p.kind, p.batch])).toEqual([['deleted', 2]]);
  });

  it('with a scope, reports only batches in scope and rows stored in it', () => {
    const batches = [[row()], [row()]];
    const recs = chainOf(shape, batches);
    const forged = { ...stored(shape, [row({ event_id: 'old-forged' })])[0]!, stored: 1 };
    const problems = checkRows(shape, recs, [forged], {
      inScope: (b) => b.batch_seq === 2,
      reportUncovered: (r) => (r.stored ?? 0) >= 100,
    });
    expect(problems.map((p) => [p.kind, p.batch])).toEqual([['deleted', 2]]);
  });

  it('names the right batch for any single change to any stored row (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 6 }),
        fc.nat(),
        fc.constantFrom('modify', 'delete'),
        (sizes, pick, how) => {
          const batches = sizes.map((s) => Array.from({ length: s }, () => row()));
          const recs = chainOf(shape, batches);
          const flat = batches.flat();
          const i = pick % flat.length;
          const batchOfRow = batches.findIndex((b) => b.includes(flat[i]!)) + 1;
          const rows =
            how === 'modify'
              ? flat.map((r, j) => (j === i ? { ...r, bytes_out: 999_999 } : r))
              : flat.filter((_, j) => j !== i);
          const problems = checkRows(shape, recs, stored(shape, rows));
          expect(problems.map((p) => [p.kind, p.batch])).toEqual([
            [how === 'modify' ? 'modified' : 'deleted', batchOfRow],
          ]);
        },
      ),
    );
  });
});

describe('verification in key-hash buckets (how vigil verify bounds its memory)', () => {
  it('adds up, over any number of buckets, to the answer over everything at once (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom('modify', 'delete', 'copy', 'forge')), { maxLength: 4 }),
        fc.integer({ min: 1, max: 9 }),
        fc.boolean(),
        (sizes, changes, buckets, folds) => {
          const s = folds ? shape : plain;
          const batches = sizes.map((n) => Array.from({ length: n }, () => row()));
          const recs = chainOf(s, batches);
          let objs = batches.flat();
          for (const [pick, how] of changes) {
            if (objs.length === 0) break;
            const i = pick % objs.length;
            if (how === 'modify') objs[i] = { ...objs[i]!, bytes_out: 1_000_000 + pick };
            else if (how === 'delete') objs = objs.filter((_, j) => j !== i);
            else if (how === 'copy') objs = [...objs, objs[i]!];
            else objs = [...objs, row({ event_id: `forged-${pick}` })];
          }
          const rows = stored(s, objs);
          const bucketOf = (entry: string) => Number.parseInt(entry.slice(0, 8), 16) % buckets;
          const tally = emptyTally();
          for (let b = 0; b < buckets; b++)
            addTally(
              tally,
              tallyRows(
                s,
                recs.map((r) => ({ ...r, entries: r.entries.filter((e) => bucketOf(e) === b) })),
                rows.filter((r) => bucketOf(r.entry) === b),
              ),
            );
          const whole = checkRows(s, recs, rows);
          const split = rowProblems(s.table, tally);
          // The same problems; only which uncovered keys are quoted as examples may differ.
          const strip = (ps: typeof whole) => ps.map((p) => ({ ...p, detail: p.batch ? p.detail : '' }));
          expect(strip(split)).toEqual(strip(whole));
        },
      ),
    );
  });
});
