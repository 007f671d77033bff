// The sender's ledger for "nothing acknowledged is lost": every event a collector acknowledged
// (2xx) is counted, and at the end the store must hold each of them exactly once after
// deduplication (uniqExact(event_id) and a FINAL count agree). Events sent but never
// acknowledged may or may not be stored; events never sent must not be.
import type { GenericEvent } from '../../src/collectors/generic/generic.schema.js';
import { deterministicId } from '../../src/model/index.js';
import type { StoreClient } from '../../src/store/index.js';
import { makeGenericEvent } from './factories.js';

export interface LedgerReport {
  readonly sent: number;
  readonly acknowledged: number;
  /** Distinct event ids stored for the tenant (uniqExact). */
  readonly stored: number;
  /** Rows of `events FINAL`: equal to `stored` when nothing is duplicated after dedup. */
  readonly finalRows: number;
  /** Acknowledged but not stored: must be empty. */
  readonly missing: string[];
  /** Stored but never sent: must be empty. */
  readonly unexpected: string[];
}

export interface Ledger {
  readonly tenant: string;
  /** Fresh events (recorded as sent). */
  batch(n: number, over?: Partial<GenericEvent>): GenericEvent[];
  acknowledge(events: readonly GenericEvent[]): void;
  /** Records events sent by another path (e.g. spans), by their store event_id. */
  sentIds(ids: readonly string[]): void;
  acknowledgeIds(ids: readonly string[]): void;
  readonly counts: () => { sent: number; acknowledged: number };
  check(client: StoreClient): Promise<LedgerReport>;
}

export function createLedger(tenant: string): Ledger {
  const sent = new Set<string>();
  const acked = new Set<string>();
  let seq = 0;
  const idOf = (e: GenericEvent) => deterministicId('generic', e.tenant, e.id!);
  return {
    tenant,
    batch(n, over = {}) {
      const now = Date.now();
      return Array.from({ length: n }, () => {
        seq++;
        const e = makeGenericEvent({
          tenant,
          id: `ledger-${seq}`,
          time: new Date(now).toISOString(),
          user: `person${seq % 50}@example.com`,
          ...over,
        });
        sent.add(idOf(e));
        return e;
      });
    },
    acknowledge(events) {
      for (const e of events) acked.add(idOf(e));
    },
    sentIds(ids) {
      for (const id of ids) sent.add(id);
    },
    acknowledgeIds(ids) {
      for (const id of ids) acked.add(id);
    },
    counts: () => ({ sent: sent.size, acknowledged: acked.size }),
    async check(client) {
      const q = async <T>(query: string) => await client.query<T>(query, { t: tenant });
      const ids = (
        await q<{ event_id: string }>('SELECT DISTINCT event_id FROM events WHERE tenant = {t:String}')
      ).map((r) => r.event_id);
      const [counts] = await q<{ uniq: string | number; final: string | number }>(
        `SELECT (SELECT uniqExact(event_id) FROM events WHERE tenant = {t:String}) AS uniq,
                (SELECT count() FROM events FINAL WHERE tenant = {t:String}) AS final`,
      );
      const stored = new Set(ids);
      return {
        sent: sent.size,
        acknowledged: acked.size,
        stored: Number(counts?.uniq ?? 0),
        finalRows: Number(counts?.final ?? 0),
        missing: [...acked].filter((id) => !stored.has(id)),
        unexpected: ids.filter((id) => !sent.has(id)),
      };
    },
  };
}

export interface SenderStats {
  requests: number;
  acknowledgedBatches: number;
  /** Answers by status; `0` counts network errors (connection refused or reset). */
  readonly statuses: Record<number, number>;
  /** The largest Retry-After seen, in seconds. */
  maxRetryAfter: number;
}

export interface SenderOptions {
  readonly ledger: Ledger;
  readonly url: string;
  readonly token: string;
  readonly batchSize: number;
  /** Pause after each acknowledged batch (sets the rate). */
  readonly intervalMs?: number;
  /** Stop taking new batches once aborted; the batch in flight is still retried until `hardStop`. */
  readonly signal: AbortSignal;
  /** Abandon the batch in flight (left unacknowledged). */
  readonly hardStop?: AbortSignal;
  readonly stats?: SenderStats;
}

export function newSenderStats(): SenderStats {
  return { requests: 0, acknowledgedBatches: 0, statuses: {}, maxRetryAfter: 0 };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A well-behaved gateway: posts batches, retries the same batch on 429/503 (after Retry-After,
 * capped at 5 s) and on network errors, and counts in the ledger only what was acknowledged.
 */
export async function runSender(opts: SenderOptions): Promise<SenderStats> {
  const stats = opts.stats ?? newSenderStats();
  const bump = (status: number) => {
    stats.statuses[status] = (stats.statuses[status] ?? 0) + 1;
  };
  while (!opts.signal.aborted) {
    const events = opts.ledger.batch(opts.batchSize);
    const body = events.map((e) => JSON.stringify(e)).join('\n');
    for (;;) {
      if (opts.hardStop?.aborted) return stats;
      stats.requests++;
      let status = 0;
      let retryAfter = 0;
      try {
        const res = await fetch(opts.url, {
          method: 'POST',
          headers: { authorization: `Bearer ${opts.token}`, 'content-type': 'application/x-ndjson' },
          body,
          signal: AbortSignal.timeout(40_000),
        });
        status = res.status;
        retryAfter = Number(res.headers.get('retry-after') ?? 0) || 0;
        await res.arrayBuffer();
      } catch {
        status = 0;
      }
      bump(status);
      if (status >= 200 && status < 300) {
        opts.ledger.acknowledge(events);
        stats.acknowledgedBatches++;
        break;
      }
      if (status !== 0 && status !== 429 && status !== 503)
        throw new Error(
          `sender: unexpected answer ${status} (only 2xx, 429, 503 or a network error are expected)`,
        );
      stats.maxRetryAfter = Math.max(stats.maxRetryAfter, retryAfter);
      await sleep(status === 0 ? 200 : Math.min(5_000, Math.max(100, retryAfter * 1000)));
    }
    if (opts.intervalMs) await sleep(opts.intervalMs);
  }
  return stats;
}
