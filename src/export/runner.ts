// The streaming side of export: one runner per sink polls the store for records stored past the
// sink's checkpoint, delivers them (retrying until the SIEM takes them) and only then moves the
// checkpoint. A crash between delivery and checkpoint re-sends that page: at-least-once.
import { errorMessage } from '../model/index.js';
import type { StoreClient } from '../store/index.js';
import type { ExportKind } from './record.js';
import { deliver, type ExportSink, type RejectedRecord, type RetryPolicy, sleep } from './sink.js';
import {
  type Cursor,
  loadExportCheckpoints,
  readAfter,
  START,
  saveExportCheckpoint,
} from './store-reader.js';

export interface ExportSinkOptions {
  readonly client: StoreClient;
  readonly sink: ExportSink;
  /** What to export; access events only when asked (they are the bulk of the data). */
  readonly kinds: readonly ExportKind[];
  /** Pause between polls once the sink has caught up. */
  readonly intervalMs: number;
  /** Only this tenant's records, or these tenants' (VIGIL_EXPORT_TENANT); absent: every tenant. */
  readonly tenant?: string | readonly string[];
  /** Records per delivery. @defaultValue 500 */
  readonly batchSize?: number;
  /**
   * Rows younger than this wait for the next poll, so a write still in flight with an earlier
   * time cannot be skipped by the cursor. @defaultValue 2000
   */
  readonly settleMs?: number;
  readonly retry?: Omit<RetryPolicy, 'signal'>;
  readonly onError?: (err: unknown) => void;
  /** Records the SIEM refused for good (also written to dead_letters). */
  readonly onRejected?: (rejected: readonly RejectedRecord[]) => void;
}

export interface ExportSinkRunner {
  /** Exports everything currently past the checkpoints; resolves with the number delivered. */
  runOnce(): Promise<number>;
  /** Stops polling; an in-flight delivery is abandoned (not checkpointed, re-sent next start). */
  stop(): Promise<void>;
  readonly stats: { exported: number; rejected: number; retries: number; polls: number };
}

export async function startExportSink(opts: ExportSinkOptions): Promise<ExportSinkRunner> {
  const batchSize = opts.batchSize ?? 500;
  const settleMs = opts.settleMs ?? 2_000;
  const abort = new AbortController();
  const stats = { exported: 0, rejected: 0, retries: 0, polls: 0 };
  const cursors = new Map<ExportKind, { cursor: Cursor; exported: number }>();
  for (const cp of await loadExportCheckpoints(opts.client, opts.sink.name))
    cursors.set(cp.kind, { cursor: cp.cursor, exported: cp.exported });

  async function pump(kind: ExportKind): Promise<number> {
    let delivered = 0;
    for (;;) {
      const state = cursors.get(kind) ?? { cursor: START, exported: 0 };
      const page = await readAfter(opts.client, kind, state.cursor, {
        limit: batchSize,
        tenant: opts.tenant,
        settleMs,
      });
      if (page.length === 0) return delivered;
      const report = await deliver(
        opts.sink,
        page.map((p) => p.record),
        { ...opts.retry, signal: abort.signal },
      );
      stats.retries += report.retries;
      if (report.rejected.length) {
        stats.rejected += report.rejected.length;
        opts.onRejected?.(report.rejected);
        await opts.client.insert(
          'dead_letters',
          report.rejected.map((r) => ({
            target: `export:${opts.sink.name}`,
            reason: r.reason.slice(0, 1000),
            row: JSON.stringify(r.record),
          })),
        );
      }
      // Durable point: the SIEM acknowledged (or refused for good) every record of the page.
      const next = { cursor: page.at(-1)!.cursor, exported: state.exported + report.delivered };
      await saveExportCheckpoint(opts.client, opts.sink.name, { kind, ...next });
      cursors.set(kind, next);
      stats.exported += report.delivered;
      delivered += report.delivered;
      if (page.length < batchSize) return delivered;
    }
  }

  // Polls never overlap (the loop and a caller's runOnce share the cursors).
  let serial: Promise<unknown> = Promise.resolve();
  function runOnce(): Promise<number> {
    const run = serial.then(async () => {
      stats.polls++;
      let n = 0;
      for (const kind of opts.kinds) n += await pump(kind);
      return n;
    });
    serial = run.catch(() => {});
    return run;
  }

  const loop = (async () => {
    while (!abort.signal.aborted) {
      try {
        await runOnce();
      } catch (err) {
        if (abort.signal.aborted) break;
        opts.onError?.(err);
      }
      await sleep(opts.intervalMs, abort.signal).catch(() => {});
    }
  })();

  return {
    stats,
    runOnce,
    async stop() {
      abort.abort(new Error(`export sink ${opts.sink.name} stopped`));
      await loop;
      await opts.sink.close().catch((err) => opts.onError?.(new Error(errorMessage(err))));
    },
  };
}
