// Sealing on a worker thread (VIGIL_AUDIT_SEAL_THREAD=true). The per-row part of sealing a batch
// (a canonical form and two hashes per row, ./seal.ts `sealRows`) is a large share of the store's
// own work on the thread that also runs the collectors, the bus and the detectors; a worker thread
// moves it to another core. It is not free: the rows' structured clone is serialized on this
// thread and deserialized on the worker, and the worker's hashing of fresh copies costs more than
// the same on warm objects. On the 2-core machines measured (bench/PROFILE.md), where the second
// core is already busy with the engine, V8's collector and the load, it cost ~15 % more CPU per
// event for no more throughput, and lowered detection latency p99; so it is off by default, for
// machines with cores to spare. The worker's answer is exactly `sealRows`'s.
//
// Small batches (findings, incidents, actions) are sealed here: a round trip would only add
// latency. Running from source (`.ts`, as the tests do), the worker's compiled entry does not
// exist beside this module and every batch is sealed here.
// A worker that fails or exits rejects the seals it held (the writer retries the insert) and is
// started again for the next batch.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type RowSealer, type SealedRows, sealHere, sealRows } from './seal.js';
import type { TableShape } from './shape.js';

export interface SealRequest {
  readonly id: number;
  readonly shape: TableShape;
  readonly rows: ReadonlyArray<Record<string, unknown>>;
}

export type SealResponse =
  | { readonly id: number; readonly sealed: SealedRows; readonly error?: undefined }
  | { readonly id: number; readonly error: string };

export interface SealWorker {
  readonly seal: RowSealer;
  /** Whether batches go to a worker thread at all (false: the entry is not built, see above). */
  readonly threaded: boolean;
  /** Stops the thread; seals still held reject. A later seal starts it again. */
  close(): Promise<void>;
}

export interface SealWorkerOptions {
  /** Batches of fewer rows are sealed on the calling thread. @defaultValue 256 */
  readonly minRows?: number;
  /** The worker's entry (compiled JavaScript). @defaultValue seal.worker.js beside this module */
  readonly script?: URL;
}

export function createSealWorker(opts: SealWorkerOptions = {}): SealWorker {
  const minRows = opts.minRows ?? 256;
  const script = opts.script ?? new URL('./seal.worker.js', import.meta.url);
  const threaded = existsSync(fileURLToPath(script));
  let current: Thread | undefined;
  let nextId = 0;

  interface Thread {
    readonly worker: Worker;
    /** Seals this thread holds: each thread fails only its own. */
    readonly held: Map<number, { resolve: (s: SealedRows) => void; reject: (e: Error) => void }>;
  }

  function fail(thread: Thread, err: Error): void {
    if (current === thread) current = undefined;
    for (const p of thread.held.values()) p.reject(err);
    thread.held.clear();
  }

  function started(): Thread {
    if (current) return current;
    const thread: Thread = { worker: new Worker(script), held: new Map() };
    const { worker, held } = thread;
    // Only held seals keep the process alive (ref'd while any is held, see seal).
    worker.unref();
    worker.on('message', (response: SealResponse) => {
      const p = held.get(response.id);
      if (!p) return;
      held.delete(response.id);
      if (held.size === 0) worker.unref();
      if (response.error !== undefined) p.reject(new Error(`audit chain seal worker: ${response.error}`));
      else p.resolve(response.sealed);
    });
    worker.on('error', (err) => fail(thread, new Error(`audit chain seal worker failed: ${err.message}`)));
    worker.on('exit', (code) => fail(thread, new Error(`audit chain seal worker exited (${code})`)));
    current = thread;
    return thread;
  }

  const seal: RowSealer = (shape, rows) => {
    if (!threaded || rows.length < minRows) return sealHere(shape, rows);
    const { worker, held } = started();
    const id = nextId++;
    const request: SealRequest = { id, shape, rows };
    return new Promise<SealedRows>((resolve, reject) => {
      try {
        worker.postMessage(request);
      } catch {
        // A value structured clone refuses (none of vigil's rows has one): seal here instead.
        resolve(sealRows(shape, rows));
        return;
      }
      held.set(id, { resolve, reject });
      worker.ref();
    });
  };

  return {
    seal,
    threaded,
    async close() {
      const thread = current;
      if (!thread) return;
      fail(thread, new Error('audit chain seal worker closed'));
      await thread.worker.terminate();
    },
  };
}
