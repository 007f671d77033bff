// Nothing acknowledged is lost when the all-in-one embedded process is SIGKILLed under load:
// senders keep posting (and retrying what was not acknowledged) through the kill and the restart;
// at the end every acknowledged event is stored exactly once after dedup, and the audit trail —
// a batch may have been inserted but not yet chained when the process died — verifies intact.
// Run with the audit chain sealing on this thread (the default) and on its worker thread.
import { afterAll, describe, expect, it } from 'vitest';
import { chainIdentity } from '../../src/cli/wiring/secrets.js';
import { loadConfig } from '../../src/config/index.js';
import { verifyAuditTrail } from '../../src/store/audit-chain/index.js';
import { openStore } from '../../src/store/index.js';
import { createLedger, newSenderStats, runSender } from '../helpers/ledger.js';
import { type ServeChild, startServeChild } from '../helpers/serve-child.js';
import { uniqueName } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';

describe('SIGKILL of the embedded all-in-one process under load', () => {
  const children: ServeChild[] = [];
  afterAll(async () => {
    for (const c of children) await c.child.kill('SIGKILL');
  });

  it.each(['false', 'true'])(
    'stores every acknowledged event exactly once after the restart (VIGIL_AUDIT_SEAL_THREAD=%s)',
    async (sealThread) => {
      const first = await startServeChild({
        env: { VIGIL_WRITER_MAX_ROWS: '500', VIGIL_AUDIT_SEAL_THREAD: sealThread },
      });
      children.push(first);
      const ledger = createLedger(uniqueName('sigkill'));
      const stop = new AbortController();
      const hardStop = new AbortController();
      const stats = newSenderStats();
      const url = `${first.collectorUrl}/v1/events`;
      const senders = [0, 1, 2].map(() =>
        runSender({
          ledger,
          url,
          token: first.sourceToken,
          batchSize: 40,
          intervalMs: 5,
          signal: stop.signal,
          hardStop: hardStop.signal,
          stats,
        }),
      );
      try {
        await waitFor(
          () => ledger.counts().acknowledged,
          (n) => n >= 2_000,
          { timeoutMs: 30_000, what: 'load before the kill' },
        );
        await first.child.kill('SIGKILL');
        const atKill = ledger.counts();
        const second = await startServeChild({ like: first });
        children.push(second);
        await waitFor(
          () => ledger.counts().acknowledged,
          (n) => n >= atKill.acknowledged + 2_000,
          {
            timeoutMs: 40_000,
            what: 'load after the restart',
          },
        );
        stop.abort();
        // Each sender finishes (retries until acknowledged) the batch it has in flight.
        await Promise.race([Promise.all(senders), new Promise((r) => setTimeout(r, 30_000))]);
        hardStop.abort();
        await Promise.all(senders);
        await second.child.kill('SIGTERM');
        expect(stats.statuses[0], 'the kill was seen by the senders').toBeGreaterThan(0);
        console.log(
          `sigkill: sent ${atKill.sent} before the kill; answers ${JSON.stringify(stats.statuses)}`,
        );
      } finally {
        stop.abort();
        hardStop.abort();
      }

      const config = loadConfig({
        ...process.env,
        VIGIL_DATA_DIR: first.dataDir,
        KAFKA_BROKERS: '',
        CLICKHOUSE_URL: '',
      });
      const store = await openStore(config.env, config.dataDir);
      try {
        const report = await ledger.check(store.client);
        console.log(
          `sigkill ledger: ${JSON.stringify({ ...report, missing: report.missing.length, unexpected: report.unexpected.length })}`,
        );
        expect(report.missing).toEqual([]);
        expect(report.unexpected).toEqual([]);
        expect(report.acknowledged).toBeGreaterThan(4_000);
        expect(report.stored).toBeGreaterThanOrEqual(report.acknowledged);
        expect(report.finalRows).toBe(report.stored);
        const trail = await verifyAuditTrail({
          client: store.client,
          dataDir: config.dataDir,
          ...chainIdentity(config),
        });
        expect(trail.tables.flatMap((t) => t.problems)).toEqual([]);
      } finally {
        await store.close();
      }
    },
    85_000,
  );
});
