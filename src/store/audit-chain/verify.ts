// Verification of the whole trail: every stored row's digest against the recorded batches, and
// every chain against the HMAC key and its head file, in memory bounded by the page size.
import type { StoreClient } from '../client.js';
import { CHAIN_TABLE, CHAINED_TABLES, type ChainRecord } from './chain-record.js';
import { createChainChecker } from './check-chain.js';
import { readHeadFile, readPendingFile } from './head-file.js';
import type { Problem } from './problem.js';
import { chainRecords, DEFAULT_PAGE_ROWS, storedEntries } from './read-pages.js';
import { type TableShape, tableShape } from './shape.js';
import { bucketOf, createSpill } from './spill.js';
import {
  addTally,
  type BatchInfo,
  emptyTally,
  type RecordedBatch,
  rowProblems,
  type StoredRowEntry,
  tallyRows,
} from './tally.js';

export interface VerifyOptions {
  readonly client: StoreClient;
  readonly dataDir: string;
  readonly chain: string;
  readonly key: Buffer;
  /** Only batches recorded and rows stored since then (epoch ms). */
  readonly since?: number;
  readonly tables?: readonly string[];
  readonly now?: number;
  /**
   * Rows (stored rows, recorded entries) held in memory at once, roughly: the chain and the data
   * are read in pages of this size and compared in buckets of about this many keys.
   * @defaultValue 50000
   */
  readonly pageSize?: number;
}

export interface TableReport {
  readonly table: string;
  readonly batches: number;
  readonly rows: number;
  /** Batches inserted before a crash, recorded when vigil next starts. */
  readonly pending: number;
  readonly intact: boolean;
  readonly problems: Problem[];
}

export interface VerifyReport {
  readonly intact: boolean;
  readonly tables: TableReport[];
}

/** Rows stored up to this long before `since` are still read (clock skew, insert latency). */
const SINCE_SLACK_MS = 5 * 60_000;

async function chainStats(
  client: StoreClient,
  table: string,
): Promise<{ chains: string[]; entries: number; widest: number }> {
  const [stats] = await client.query<{ chains: string[]; entries: number | string; widest: number | string }>(
    `SELECT groupUniqArray(chain) AS chains, sum(row_count) AS entries, max(row_count) AS widest
              FROM ${CHAIN_TABLE} WHERE tbl = {t:String}`,
    { t: table },
  );
  return {
    chains: [...(stats?.chains ?? [])].sort(),
    entries: Number(stats?.entries ?? 0),
    widest: Number(stats?.widest ?? 0),
  };
}

async function storedCount(client: StoreClient, shape: TableShape, sinceMs?: number): Promise<number> {
  const where =
    sinceMs !== undefined && shape.insertTimeColumn
      ? `WHERE ${shape.insertTimeColumn} >= fromUnixTimestamp64Milli({since:Int64})`
      : '';
  const [row] = await client.query<{ n: number | string }>(
    `SELECT count() AS n FROM ${shape.table} ${where}`,
    { since: sinceMs ?? 0 },
  );
  return Number(row?.n ?? 0);
}

/**
 * Recomputes every stored row's digest, compares them with the recorded batches and checks the
 * chain against the HMAC key and the head files. With `since`, only rows stored since then are
 * read (a full run also catches rows forged with an old stored_time).
 *
 * Memory is bounded by `pageSize`, not by the store: the chain is read in pages of batches and
 * checked link by link; recorded entries and stored rows (read in pages of rows) are written to
 * bucket files by key hash; then each bucket is compared on its own and the results added. The
 * rules are per sorting key, so the answer is the same as comparing everything at once.
 */
export async function verifyAuditTrail(opts: VerifyOptions): Promise<VerifyReport> {
  const now = opts.now ?? Date.now();
  const since = opts.since;
  const pageSize = Math.max(1, opts.pageSize ?? DEFAULT_PAGE_ROWS);
  const reports: TableReport[] = [];
  for (const table of opts.tables ?? CHAINED_TABLES) {
    const shape = await tableShape(opts.client, table);
    const problems: Problem[] = [];
    const head = readHeadFile(opts.dataDir, table);
    // A batch whose insert was under way when the process died is settled at the next start;
    // until then its rows are accounted for, not reported.
    const pending = readPendingFile(opts.dataDir, table);
    const settling =
      pending && pending.chain === opts.chain && pending.batch_seq === (head?.seq ?? 0) + 1 ? [pending] : [];
    const scanFrom = since === undefined ? undefined : since - SINCE_SLACK_MS;
    const stats = await chainStats(opts.client, table);
    const chains = [...new Set([opts.chain, ...stats.chains])].sort();
    const stored = await storedCount(opts.client, shape, scanFrom);
    const buckets = Math.max(1, Math.ceil(Math.max(stats.entries, stored) / pageSize));
    const inScope = (b: BatchInfo) => since === undefined || b.time >= since;
    let batches = 0;
    let rows = 0;
    const entrySpill = await createSpill(opts.dataDir, buckets, 'entries');
    const rowSpill = await createSpill(opts.dataDir, buckets, 'rows');
    try {
      // Each recorded entry as `entry seq order time min_time`; `order` keeps the records' order
      // (seq, then chain) that decides which entry of a key is the latest.
      const spillRecord = async (r: ChainRecord, chainIndex: number) => {
        for (const e of r.entries)
          await entrySpill.add(
            bucketOf(e, buckets),
            `${e}\t${r.batch_seq}\t${chainIndex}\t${r.time}\t${r.min_time}`,
          );
      };
      const perPage = Math.max(1, Math.floor(pageSize / Math.max(1, stats.widest)));
      for (const [chainIndex, chain] of chains.entries()) {
        const own = chain === opts.chain;
        // Another process's chain: its links are checked; its key and head file live on its host.
        const checker = createChainChecker(table, chain, {
          key: own ? opts.key : undefined,
          head: own ? head : undefined,
        });
        for await (const r of chainRecords(opts.client, table, chain, perPage)) {
          checker.add(r);
          if (inScope(r)) batches++;
          await spillRecord(r, chainIndex);
        }
        problems.push(...checker.finish().filter((p) => own || p.kind !== 'head-missing'));
        if (own) for (const r of settling) await spillRecord(r, chainIndex);
      }
      for await (const r of storedEntries(opts.client, shape, scanFrom, pageSize)) {
        rows++;
        await rowSpill.add(bucketOf(r.entry, buckets), `${r.entry}\t${r.stored}\t${r.key}`);
      }
      await Promise.all([entrySpill.flush(), rowSpill.flush()]);
      const horizon = shape.ttl ? now - shape.ttl.days * 86_400_000 : undefined;
      const tally = emptyTally();
      for (let b = 0; b < buckets; b++) {
        addTally(
          tally,
          tallyRows(shape, recordsOf(await entrySpill.lines(b)), rowsOf(await rowSpill.lines(b)), {
            // Retention drops rows by event time; an hour of slack for TTL merges running late.
            expired: (batch) => horizon !== undefined && batch.min_time < horizon + 3_600_000,
            inScope,
            reportUncovered: (row) => since === undefined || (row.stored ?? 0) >= since,
          }),
        );
      }
      problems.push(...rowProblems(table, tally));
    } finally {
      await Promise.all([entrySpill.remove(), rowSpill.remove()]);
    }
    reports.push({
      table,
      batches,
      rows,
      pending: settling.length,
      intact: problems.length === 0,
      problems,
    });
  }
  return { intact: reports.every((r) => r.intact), tables: reports };
}

/** A bucket's recorded entries back as batches, in the order the chain records them. */
function recordsOf(lines: readonly string[]): RecordedBatch[] {
  const batches = new Map<string, BatchInfo & { order: number; entries: string[] }>();
  for (const line of lines) {
    const [entry, seq, order, time, minTime] = line.split('\t') as [string, string, string, string, string];
    const id = `${seq}\t${order}`;
    let b = batches.get(id);
    if (!b) {
      b = {
        batch_seq: Number(seq),
        order: Number(order),
        time: Number(time),
        min_time: Number(minTime),
        entries: [],
      };
      batches.set(id, b);
    }
    b.entries.push(entry);
  }
  return [...batches.values()].sort((a, b) => a.batch_seq - b.batch_seq || a.order - b.order);
}

function rowsOf(lines: readonly string[]): StoredRowEntry[] {
  return lines.map((line) => {
    const tab = line.indexOf('\t');
    const tab2 = line.indexOf('\t', tab + 1);
    return {
      entry: line.slice(0, tab),
      stored: Number(line.slice(tab + 1, tab2)),
      key: line.slice(tab2 + 1),
    };
  });
}
