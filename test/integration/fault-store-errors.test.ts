// ClickHouse refusing inserts for a while — first a full disk, then a dropped connection — under
// load: the writer retries (it never drops, never crashes), the collectors push back (429/503 +
// Retry-After) instead of buffering without bound, and once inserts succeed again everything
// acknowledged is stored exactly once, its audit chain intact.
import { afterAll, describe, expect, it } from 'vitest';
import { verifyAuditTrail } from '../../src/store/audit-chain/index.js';
import { chainIdentity } from '../../src/cli/wiring/secrets.js';
import { createLedger, newSenderStats, runSender } from '../helpers/ledger.js';
import { uniqueName } from '../helpers/services.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';
import { waitFor } from '../helpers/wait.js';

/** Errors as the client reports them: ClickHouse's NOT_ENOUGH_SPACE, then a reset connection. */
function storeFault(kind: 'disk-full' | 'connection'): Error {
  return kind === 'disk-full'
    ? Object.assign(new Error('Cannot reserve 1.00 MiB, not enough space. (NOT_ENOUGH_SPACE)'), {
        code: '243',
        type: 'NOT_ENOUGH_SPACE',
      })
    : Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
}

describe('store insert failures under load', () => {
  let v: TestVigil;
  afterAll(async () => v?.stop());

  it('retries, pushes back, recovers, and loses nothing acknowledged', async () => {
    v = await startTestVigil({
      roles: ['collector', 'store'],
      env: { VIGIL_MAX_INFLIGHT_EVENTS: '400', VIGIL_WRITER_MAX_AGE: '50ms' },
    });
    const client = v.app.store.client;
    // Fault injection at the store client the writers hold: every insert (events, the audit chain,
    // dead letters) goes through its `insert`, which fails as the client reports a full disk or a
    // dropped connection.
    const insert = client.insert;
    let fault: 'disk-full' | 'connection' | undefined;
    let refused = 0;
    client.insert = async (table, rows, dedupToken) => {
      if (fault) {
        refused++;
        throw storeFault(fault);
      }
      return insert(table, rows, dedupToken);
    };

    const ledger = createLedger(uniqueName('store-fault'));
    const stop = new AbortController();
    const stats = newSenderStats();
    const url = `${v.app.collectorUrl}/v1/events`;
    // Eight senders of 100 against 400 events in flight: the pipeline is full as soon as it stalls.
    const senders = Array.from({ length: 8 }, () =>
      runSender({
        ledger,
        url,
        token: v.app.sourceToken,
        batchSize: 100,
        intervalMs: 10,
        signal: stop.signal,
        stats,
      }),
    );
    try {
      await waitFor(
        () => ledger.counts().acknowledged,
        (n) => n >= 1_000,
        { timeoutMs: 20_000, what: 'load' },
      );
      fault = 'disk-full';
      await new Promise((r) => setTimeout(r, 4_000));
      fault = 'connection';
      await new Promise((r) => setTimeout(r, 4_000));
      const duringOutage = { ...stats.statuses };
      const ackedAtRecovery = ledger.counts().acknowledged;
      const rss = process.memoryUsage().rss;
      fault = undefined;
      // Backpressure, not buffering: senders were told to come back later.
      expect((duringOutage[429] ?? 0) + (duringOutage[503] ?? 0)).toBeGreaterThan(0);
      expect(stats.maxRetryAfter).toBeGreaterThanOrEqual(1);
      expect(refused).toBeGreaterThan(0);
      expect(v.app.ingest.inflight()).toBeLessThanOrEqual(400 + 100);
      const health = await fetch(`${v.app.adminUrl}/healthz`, {
        headers: { authorization: `Bearer ${v.app.adminToken}` },
      });
      expect(health.status).toBe(200);
      await waitFor(
        () => ledger.counts().acknowledged,
        (n) => n >= ackedAtRecovery + 2_000,
        {
          timeoutMs: 40_000,
          what: 'load after recovery',
        },
      );
      console.log(
        `store faults: ${refused} inserts refused; answers ${JSON.stringify(stats.statuses)}; rss after outage ${Math.round(rss / 1048576)} MB`,
      );
    } finally {
      stop.abort();
      fault = undefined;
    }
    await Promise.all(senders);
    await v.app.writers.events.flush();
    const report = await ledger.check(client);
    expect(report.missing).toEqual([]);
    expect(report.unexpected).toEqual([]);
    expect(report.finalRows).toBe(report.stored);
    expect(report.stored).toBe(report.acknowledged);
    const config = v.app.config;
    const trail = await verifyAuditTrail({ client, dataDir: config.dataDir, ...chainIdentity(config) });
    expect(trail.tables.flatMap((t) => t.problems)).toEqual([]);
  }, 85_000);
});
