// The writer's chain: inserts a batch through the caller, then appends its chain record and moves
// the head file; settles what a crash left behind at the first insert.
import { rmSync } from 'node:fs';
import { type Backoff, backoffDelayMs } from '../../model/index.js';
import type { StoreClient } from '../client.js';
import { CHAIN_TABLE, type ChainPosition, type ChainRecord, recordRow } from './chain-record.js';
import { batchDigest, chainMac, genesisHead, nextHead } from './digest.js';
import { pendingPath, readHeadFile, readPendingFile, writeAtomic, writeHeadFile } from './head-file.js';
import { lastRecord, storedEntries } from './read-pages.js';
import { type RowSealer, sealHere, sealRecord } from './seal.js';
import { type TableShape, tableShape } from './shape.js';

export interface AuditChainOptions {
  readonly client: StoreClient;
  readonly table: string;
  /** Where the head and pending files live ($VIGIL_DATA_DIR). */
  readonly dataDir: string;
  /** This process's chain id (several store processes each keep their own chain). */
  readonly chain: string;
  /** HMAC key (keys/chain.key): never stored in ClickHouse. */
  readonly key: Buffer;
  readonly onError?: (err: unknown, attempt: number) => void;
  readonly onWarning?: (message: string) => void;
  /** Records digests this many batches back, as ClickHouse's insert deduplication window. @defaultValue 100 */
  readonly recentWindow?: number;
  /** Seals a batch's rows (./seal-worker.ts: on a worker thread). @defaultValue on this thread */
  readonly seal?: RowSealer;
}

export interface AuditChain {
  /**
   * Inserts rows through `write` (given the insert token to use) and appends the batch's chain
   * record once the insert returned. Rejects only when the insert itself failed.
   */
  insert(
    rows: ReadonlyArray<Record<string, unknown>>,
    write: (token: string) => Promise<void>,
  ): Promise<void>;
  /** Stops retrying chain appends (a pending file settles it at the next start). */
  close(): void;
  readonly position: () => ChainPosition | undefined;
}

/** Waits between tries of a chain append: 200 ms doubling to 5 s, no jitter (one writer per chain). */
export const CHAIN_APPEND_BACKOFF: Backoff = { baseMs: 200, capMs: 5_000 };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function createAuditChain(opts: AuditChainOptions): AuditChain {
  let shape: TableShape | undefined;
  let position: ChainPosition | undefined;
  let ready: Promise<void> | undefined;
  let closed = false;
  const recent: string[] = [];
  const recentWindow = opts.recentWindow ?? 100;

  async function append(record: ChainRecord): Promise<void> {
    // The token is the head: a retried append that did land is dropped as a duplicate.
    for (let attempt = 1; ; attempt++) {
      try {
        await opts.client.insert(CHAIN_TABLE, [recordRow(record)], `chain-${record.head}`);
        break;
      } catch (err) {
        opts.onError?.(err, attempt);
        if (closed && attempt >= 3) throw err;
        await sleep(backoffDelayMs(attempt, CHAIN_APPEND_BACKOFF));
      }
    }
    writeHeadFile(opts.dataDir, opts.key, record);
    rmSync(pendingPath(opts.dataDir, opts.table), { force: true });
    position = { seq: record.batch_seq, head: record.head };
    recent.push(record.batch_digest);
    if (recent.length > recentWindow) recent.shift();
  }

  /** Settles what a crash left behind, then positions the chain at its head. */
  async function init(): Promise<void> {
    shape = await tableShape(opts.client, opts.table);
    const file = readHeadFile(opts.dataDir, opts.table);
    const stored = await lastRecord(opts.client, opts.table, opts.chain);
    if (file) {
      position = { seq: file.seq, head: file.head };
      if (stored && stored.batch_seq < file.seq)
        opts.onWarning?.(
          `audit chain ${opts.table}: the store's last record is ${stored.batch_seq}, the head file says ${file.seq}`,
        );
    } else if (stored) {
      opts.onWarning?.(
        `audit chain ${opts.table}: no head file, resuming from the store's record ${stored.batch_seq}`,
      );
      position = { seq: stored.batch_seq, head: stored.head };
    } else {
      position = { seq: 0, head: genesisHead(opts.table, opts.chain) };
    }
    const pending = readPendingFile(opts.dataDir, opts.table);
    if (!pending) return;
    if (pending.batch_seq !== position.seq + 1 || pending.prev_head !== position.head) {
      rmSync(pendingPath(opts.dataDir, opts.table), { force: true });
      return;
    }
    if (stored && stored.batch_seq === pending.batch_seq && stored.head === pending.head) {
      // The record landed, the head file did not move.
      writeHeadFile(opts.dataDir, opts.key, pending);
      rmSync(pendingPath(opts.dataDir, opts.table), { force: true });
      position = { seq: pending.batch_seq, head: pending.head };
      return;
    }
    // Did the insert land before the crash? Look at what was stored around it.
    const wanted = new Set(pending.entries);
    const found = new Set<string>();
    for await (const r of storedEntries(opts.client, shape, pending.time - 10 * 60_000)) {
      if (wanted.has(r.entry)) found.add(r.entry);
    }
    if (found.size === 0) {
      rmSync(pendingPath(opts.dataDir, opts.table), { force: true });
      return;
    }
    const kept = pending.entries.filter((e) => found.has(e));
    const digest = batchDigest(opts.table, kept);
    const head = nextHead(position.head, digest);
    opts.onWarning?.(
      `audit chain ${opts.table}: recorded batch ${pending.batch_seq} (${kept.length} rows) inserted before a crash`,
    );
    await append({
      ...pending,
      entries: kept,
      row_count: kept.length,
      batch_digest: digest,
      head,
      time: Date.now(),
      mac: chainMac(opts.key, opts.table, opts.chain, pending.batch_seq, head),
    });
  }

  return {
    position: () => position,
    close() {
      closed = true;
    },
    async insert(rows, write) {
      ready ??= init().catch((err) => {
        ready = undefined; // try again with the next batch
        throw err;
      });
      await ready;
      const sealed = await (opts.seal ?? sealHere)(shape!, rows);
      // Inserts of one chain come one after another (the writer's flushes): the position read
      // after sealing is the one this batch extends.
      const record = sealRecord(shape!.table, sealed, {
        chain: opts.chain,
        prev: position!,
        key: opts.key,
        now: Date.now(),
      });
      const token = `chain-${record.batch_digest}`;
      // The same content within the deduplication window: ClickHouse drops the insert, the rows
      // already stored are those of the recorded batch.
      if (recent.includes(record.batch_digest)) {
        await write(token);
        return;
      }
      writeAtomic(pendingPath(opts.dataDir, opts.table), JSON.stringify(record));
      await write(token);
      await append({ ...record, time: Date.now() });
    },
  };
}
