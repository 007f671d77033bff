// A short soak: a vigil process (all roles, embedded) under a steady load from sender loops, its
// memory (RSS) and its lag sampled every few seconds; both must stay flat. 60 s in CI;
// SOAK_SECONDS=1800 runs it for 30 minutes by hand. The measured curves go to
// test-artifacts/soak.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { openStore } from '../../src/store/index.js';
import { createLedger, newSenderStats, runSender } from '../helpers/ledger.js';
import { type ServeChild, startServeChild } from '../helpers/serve-child.js';
import { uniqueName } from '../helpers/services.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const SAMPLE_MS = Number(process.env.SOAK_SAMPLE_MS ?? 3_000);
const SENDERS = Number(process.env.SOAK_SENDERS ?? 4);
const BATCH = 100;
const ARTIFACT = path.resolve(import.meta.dirname, '../../test-artifacts/soak.json');

interface Sample {
  /** Seconds since the load started. */
  t: number;
  rssMb: number;
  /**
   * The V8 heap in use and memory bound to JS objects (buffers), from the process's own Prometheus
   * gauges; RSS less these is the rest (the embedded engine, code, allocator caches). -1: no answer.
   */
  heapUsedMb: number;
  /** The V8 heap's committed size: what of the RSS V8 holds, garbage included. */
  heapTotalMb: number;
  externalMb: number;
  acknowledged: number;
  /** Events acknowledged per second over the last interval. */
  rate: number;
  /** Events the collectors accepted (durable) and the detectors processed, so far. */
  accepted: number;
  detected: number;
  /** Accepted events the detectors have not processed yet (negative: they ran ahead of acks). */
  detectLag: number;
  /** Sender-observed time to acknowledgement over the last interval, ms. */
  ackP50: number;
  ackP95: number;
}

const quantile = (xs: number[], q: number) => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
/** A gauge's value from Prometheus text exposition, in MB; -1 when the text lacks it. */
function gaugeMb(text: string | undefined, name: string): number {
  const line = text?.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Math.round(Number(line.slice(name.length + 1)) / 1048576) : -1;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

describe('soak', () => {
  let server: ServeChild | undefined;
  afterAll(async () => server?.child.kill('SIGKILL'));

  it(
    `keeps memory and lag flat under steady load for ${SECONDS}s`,
    async () => {
      server = await startServeChild();
      const ledger = createLedger(uniqueName('soak'));
      const stop = new AbortController();
      const stats = newSenderStats();
      const latencies: number[] = [];
      // Time each acknowledged request: wrap fetch for this test's senders only.
      const url = `${server.collectorUrl}/v1/events`;
      const timedFetch = globalThis.fetch;
      globalThis.fetch = (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
        const started = performance.now();
        const res = await timedFetch(input, init);
        if (String(input) === url && res.ok) latencies.push(performance.now() - started);
        return res;
      }) as typeof fetch;
      const senders = Array.from({ length: SENDERS }, () =>
        runSender({
          ledger,
          url,
          token: server!.sourceToken,
          batchSize: BATCH,
          intervalMs: 20,
          signal: stop.signal,
          stats,
        }),
      );
      const samples: Sample[] = [];
      const started = Date.now();
      let lastAcked = 0;
      let lastT = 0;
      try {
        while (Date.now() - started < SECONDS * 1000) {
          await new Promise((r) => setTimeout(r, SAMPLE_MS));
          const metrics = await server.admin<Record<string, number>>('/v1/metrics');
          const exposition = await server.adminText('/metrics');
          const t = (Date.now() - started) / 1000;
          const acknowledged = ledger.counts().acknowledged;
          const window = latencies.splice(0);
          samples.push({
            t: Math.round(t * 10) / 10,
            rssMb: Math.round(server.rss() / 1048576),
            heapUsedMb: gaugeMb(exposition, 'nodejs_heap_size_used_bytes'),
            heapTotalMb: gaugeMb(exposition, 'nodejs_heap_size_total_bytes'),
            externalMb: gaugeMb(exposition, 'nodejs_external_memory_bytes'),
            acknowledged,
            rate: Math.round((acknowledged - lastAcked) / (t - lastT)),
            accepted: metrics?.ingest_accepted_generic ?? -1,
            detected: metrics?.detect_events ?? -1,
            detectLag: Math.max(0, (metrics?.ingest_accepted_generic ?? 0) - (metrics?.detect_events ?? 0)),
            ackP50: Math.round(quantile(window, 0.5)),
            ackP95: Math.round(quantile(window, 0.95)),
          });
          lastAcked = acknowledged;
          lastT = t;
        }
      } finally {
        stop.abort();
        await Promise.all(senders);
        globalThis.fetch = timedFetch;
      }
      await server.child.kill('SIGTERM');

      // Warm-up: the first fifth (at least 15 s) grows heaps and caches once; after it, flat.
      const warm = samples.filter((s) => s.t >= Math.max(15, SECONDS / 5));
      const third = Math.max(1, Math.floor(warm.length / 3));
      const early = warm.slice(0, third);
      const late = warm.slice(-third);
      const summary = {
        seconds: SECONDS,
        senders: SENDERS,
        batch: BATCH,
        acknowledged: ledger.counts().acknowledged,
        meanRate: Math.round(mean(warm.map((s) => s.rate))),
        rssMb: {
          start: samples[0]?.rssMb,
          earlyMean: Math.round(mean(early.map((s) => s.rssMb))),
          lateMean: Math.round(mean(late.map((s) => s.rssMb))),
          max: Math.max(...samples.map((s) => s.rssMb)),
        },
        // Whose memory moves: the JS heap and external memory beside the RSS, same thirds.
        heapUsedMb: {
          earlyMean: Math.round(mean(early.map((s) => s.heapUsedMb))),
          lateMean: Math.round(mean(late.map((s) => s.heapUsedMb))),
        },
        externalMb: {
          earlyMean: Math.round(mean(early.map((s) => s.externalMb))),
          lateMean: Math.round(mean(late.map((s) => s.externalMb))),
        },
        // The RSS less V8's committed heap and external memory: the embedded engine, code, malloc.
        restMb: {
          earlyMean: Math.round(mean(early.map((s) => s.rssMb - s.heapTotalMb - s.externalMb))),
          lateMean: Math.round(mean(late.map((s) => s.rssMb - s.heapTotalMb - s.externalMb))),
        },
        detectLag: {
          earlyMax: Math.max(...early.map((s) => s.detectLag)),
          lateMax: Math.max(...late.map((s) => s.detectLag)),
        },
        ackP95Ms: {
          earlyMax: Math.max(...early.map((s) => s.ackP95)),
          lateMax: Math.max(...late.map((s) => s.ackP95)),
        },
        answers: stats.statuses,
      };
      mkdirSync(path.dirname(ARTIFACT), { recursive: true });
      writeFileSync(ARTIFACT, `${JSON.stringify({ summary, samples }, null, 2)}\n`);
      console.log(`soak: ${JSON.stringify(summary)}`);

      // The curves cover the whole run without holes (each sample waits SAMPLE_MS plus the metrics
      // call, so under load there are a few fewer than SECONDS / SAMPLE_MS).
      const gaps = samples.slice(1).map((s, i) => s.t - samples[i]!.t);
      expect(samples.at(-1)!.t).toBeGreaterThanOrEqual(SECONDS - (2 * SAMPLE_MS) / 1000);
      expect(Math.max(...gaps)).toBeLessThan((3 * SAMPLE_MS) / 1000);
      expect(summary.meanRate).toBeGreaterThan(200);
      // The counters the lag is made of are there, and the detectors saw every accepted event.
      expect(samples.at(-1)!.accepted).toBeGreaterThan(0);
      expect(samples.at(-1)!.detected).toBeGreaterThan(0);
      expect(
        samples.every((s) => s.heapUsedMb > 0 && s.heapTotalMb >= s.heapUsedMb && s.externalMb >= 0),
      ).toBe(true);
      // Memory: the late mean within 100 MB (and 25 %) of the early mean.
      expect(summary.rssMb.lateMean - summary.rssMb.earlyMean).toBeLessThan(
        Math.max(100, summary.rssMb.earlyMean * 0.25),
      );
      // Lag: the detectors keep up (a backlog of at most ~5 s of load), and it does not grow.
      const allowedLag = Math.max(5 * summary.meanRate, 2 * BATCH * SENDERS);
      expect(summary.detectLag.lateMax).toBeLessThan(allowedLag);
      expect(summary.ackP95Ms.lateMax).toBeLessThan(Math.max(2_000, 3 * summary.ackP95Ms.earlyMax));

      const config = loadConfig({
        ...process.env,
        VIGIL_DATA_DIR: server.dataDir,
        KAFKA_BROKERS: '',
        CLICKHOUSE_URL: '',
      });
      const store = await openStore(config.env, config.dataDir);
      try {
        const report = await ledger.check(store.client);
        expect(report.missing).toEqual([]);
        expect(report.finalRows).toBe(report.stored);
      } finally {
        await store.close();
      }
    },
    (SECONDS + 28) * 1000,
  );
});
