// Batched ClickHouse writer. Rows are buffered and inserted by size or age; `write` resolves only
// once its rows are inserted (this is where an event becomes durable in the store). The buffer is
// bounded: callers wait when it is full. Transient failures retry with backoff for as long as it
// takes (the caller keeps waiting, so upstream offsets stay uncommitted); data errors are isolated
// by bisection and the poison rows go to dead_letters, while the rest of the batch is stored.
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { type Backoff, backoffDelayMs, errorMessage } from '../model/index.js';
import { type AuditChain, wellFormed } from './audit-chain/index.js';
import type { StoreClient } from './client.js';

export interface WriterOptions<T> {
  readonly client: StoreClient;
  readonly table: string;
  readonly toRow: (item: T) => Record<string, unknown>;
  /** Key to deduplicate redelivered items (e.g. event_id); also seeds the insert dedup token. */
  readonly dedupKey?: (item: T) => string;
  /** @defaultValue 20000 */
  readonly maxRows?: number;
  /** @defaultValue 250 */
  readonly maxAgeMs?: number;
  /** @defaultValue 200000 */
  readonly maxBufferedRows?: number;
  readonly onError?: (err: unknown, attempt: number) => void;
  readonly onFlush?: (rows: number, ms: number) => void;
  /**
   * Tamper-evident trail: every insert that happened is recorded in the audit chain, and the
   * insert token becomes a digest of the batch's content (see audit-chain/append.ts).
   */
  readonly chain?: AuditChain;
}

export interface BatchedWriter<T> {
  /** Resolves when every item is inserted (or dead-lettered as poison). */
  write(items: T[]): Promise<void>;
  flush(): Promise<void>;
  close(): Promise<void>;
  readonly stats: { inserted: number; deadLettered: number; deduplicated: number; buffered: number };
}

interface Entry<T> {
  readonly items: T[];
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

/** ClickHouse error codes that mean "this data is bad", not "the server is in trouble". */
const DATA_ERROR_CODES = new Set([
  '6',
  '26',
  '27',
  '32',
  '38',
  '41',
  '53',
  '62',
  '69',
  '70',
  '72',
  '117',
  '130',
  '131',
  '241',
]);

export function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code !== undefined && DATA_ERROR_CODES.has(String(code));
}

export function createBatchedWriter<T>(opts: WriterOptions<T>): BatchedWriter<T> {
  const maxRows = opts.maxRows ?? 20_000;
  const maxAgeMs = opts.maxAgeMs ?? 250;
  const maxBuffered = opts.maxBufferedRows ?? 200_000;
  const recent = opts.dedupKey ? new LRUCache<string, true>({ max: 500_000 }) : undefined;
  const stats = { inserted: 0, deadLettered: 0, deduplicated: 0, buffered: 0 };
  let queue: Entry<T>[] = [];
  let timer: NodeJS.Timeout | null = null;
  let flushing: Promise<void> = Promise.resolve();
  let spaceWaiters: Array<() => void> = [];
  let closed = false;

  function schedule(): void {
    if (stats.buffered >= maxRows) {
      void startFlush();
    } else if (!timer) {
      timer = setTimeout(() => void startFlush(), maxAgeMs);
    }
  }

  function startFlush(): Promise<void> {
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    // Flushes run one after another so rows of one identity are inserted in order.
    flushing = flushing.then(flushOnce);
    return flushing;
  }

  async function flushOnce(): Promise<void> {
    const entries = queue;
    queue = [];
    if (entries.length === 0) return;
    const items = entries.flatMap((e) => e.items);
    try {
      await insertWithRetry(items);
      for (const e of entries) e.resolve();
    } catch (err) {
      for (const e of entries) e.reject(err as Error);
    } finally {
      stats.buffered -= items.length;
      const waiters = spaceWaiters;
      spaceWaiters = [];
      for (const w of waiters) w();
    }
  }

  async function insertWithRetry(items: T[]): Promise<void> {
    const fresh = recent ? items.filter((i) => !recent.has(opts.dedupKey!(i))) : items;
    stats.deduplicated += items.length - fresh.length;
    if (fresh.length === 0) return;
    for (let attempt = 1; ; attempt++) {
      try {
        await insertIsolating(fresh);
        if (recent) for (const i of fresh) recent.set(opts.dedupKey!(i), true);
        return;
      } catch (err) {
        opts.onError?.(err, attempt);
        if (closed && attempt >= 3) throw err;
        await sleep(backoffDelayMs(attempt, STORE_INSERT_BACKOFF));
      }
    }
  }

  /** Inserts; on a data error, splits the batch until the poison rows are found. */
  async function insertIsolating(items: T[]): Promise<void> {
    try {
      await insertBatch(items);
    } catch (err) {
      if (!isDataError(err)) throw err;
      if (items.length === 1) {
        await deadLetter(items[0]!, err);
        return;
      }
      const mid = items.length >> 1;
      await insertIsolating(items.slice(0, mid));
      await insertIsolating(items.slice(mid));
    }
  }

  async function insertBatch(items: T[]): Promise<void> {
    const started = performance.now();
    // A lone surrogate makes ClickHouse refuse the whole batch forever: store U+FFFD instead.
    const rows = items.map((i) => wellFormedRow(opts.toRow(i)));
    if (opts.chain) {
      await opts.chain.insert(rows, (token) => opts.client.insert(opts.table, rows, token));
    } else {
      const token = opts.dedupKey ? dedupToken(items.map(opts.dedupKey)) : undefined;
      await opts.client.insert(opts.table, rows, token);
    }
    stats.inserted += items.length;
    opts.onFlush?.(items.length, performance.now() - started);
  }

  async function deadLetter(item: T, err: unknown): Promise<void> {
    stats.deadLettered++;
    await opts.client.insert('dead_letters', [
      { target: opts.table, reason: errorMessage(err).slice(0, 1000), row: JSON.stringify(opts.toRow(item)) },
    ]);
  }

  return {
    stats,
    async write(items) {
      if (closed) throw new Error(`writer for ${opts.table} is closed`);
      if (items.length === 0) return;
      while (stats.buffered > 0 && stats.buffered + items.length > maxBuffered) {
        await new Promise<void>((resolve) => spaceWaiters.push(resolve));
      }
      stats.buffered += items.length;
      const done = new Promise<void>((resolve, reject) => queue.push({ items, resolve, reject }));
      schedule();
      return done;
    },
    flush: () => startFlush(),
    async close() {
      closed = true;
      opts.chain?.close();
      await startFlush();
    },
  };
}

function wellFormedValue(v: unknown): unknown {
  if (typeof v === 'string') return wellFormed(v);
  if (Array.isArray(v)) return v.map(wellFormedValue);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[wellFormed(k)] = wellFormedValue(x);
    return out;
  }
  return v;
}

function illFormed(v: unknown): boolean {
  // Runs over every value of every row: plain loops, no entry arrays.
  if (typeof v === 'string') return wellFormed(v) !== v;
  if (v === null || typeof v !== 'object') return false;
  if (Array.isArray(v)) {
    for (const x of v) if (illFormed(x)) return true;
    return false;
  }
  for (const k in v) {
    if (!Object.hasOwn(v, k)) continue;
    if (wellFormed(k) !== k || illFormed((v as Record<string, unknown>)[k])) return true;
  }
  return false;
}

/** The row itself (no copy) unless a string in it holds a lone surrogate. */
function wellFormedRow(row: Record<string, unknown>): Record<string, unknown> {
  return illFormed(row) ? (wellFormedValue(row) as Record<string, unknown>) : row;
}

function dedupToken(keys: string[]): string {
  const h = createHash('sha256');
  for (const k of keys) h.update(k).update('\n');
  return h.digest('hex');
}

/** Waits between tries of an insert: 200 ms doubling to 10 s, jittered (many writers may fail together). */
export const STORE_INSERT_BACKOFF: Backoff = { baseMs: 200, capMs: 10_000, jitter: 'equal' };

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
