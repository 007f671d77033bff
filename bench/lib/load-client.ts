// The benchmark's side of the load worker (load.worker.ts): one promise per command.
import { Worker } from 'node:worker_threads';
import type { Delivery, LoadCommand, LoadReply, LoadStats, LoadWorkerData } from './load.worker.js';

export type { Delivery, LoadStats };

export interface LoadClient {
  readonly hookUrl: string;
  target(collectorUrl: string): void;
  /** Posts every identity once; resolves with the events accepted. */
  prime(): Promise<number>;
  /** Posts one probe alone; resolves with the HTTP status. */
  probe(name: string): Promise<number>;
  /**
   * Starts the gateways; a probe goes into the traffic every `probeEveryMs` (0: none); `rate`
   * events a second in bodies of `perBody` (rate 0: as fast as vigil takes them).
   */
  load(opts: { probeEveryMs: number; probePrefix: string; rate: number; perBody: number }): void;
  stop(): Promise<LoadStats>;
  deliveries(): Promise<Delivery[]>;
  /** The load worker's own CPU seconds so far (NaN where not known). */
  cpuSeconds(): Promise<number>;
  /** The load worker's OS thread id, once cpuSeconds answered (undefined where not known). */
  readonly tid: () => number | undefined;
  close(): Promise<void>;
}

/**
 * Starts the worker with the receiver only: its URL is vigil's configuration, so it must exist
 * before vigil starts; `target` then points the gateways at vigil's collector.
 */
export async function createLoadClient(data: LoadWorkerData): Promise<LoadClient> {
  let tid: number | undefined;
  const worker = new Worker(new URL('./load.worker.js', import.meta.url), { workerData: data });
  const waiting = new Map<string, Array<(m: LoadReply) => void>>();
  const expect = <T extends LoadReply['type']>(type: T) =>
    new Promise<Extract<LoadReply, { type: T }>>((resolve) => {
      const list = waiting.get(type) ?? [];
      list.push(resolve as (m: LoadReply) => void);
      waiting.set(type, list);
    });
  worker.on('message', (m: LoadReply) => waiting.get(m.type)?.shift()?.(m));
  worker.on('error', (err) => {
    throw err;
  });
  const send = (c: LoadCommand) => worker.postMessage(c);
  const ready = await expect('ready');
  return {
    hookUrl: ready.hookUrl,
    target(collectorUrl) {
      send({ cmd: 'target', url: collectorUrl });
    },
    async prime() {
      const done = expect('primed');
      send({ cmd: 'prime' });
      return (await done).accepted;
    },
    async probe(name) {
      const done = expect('probed');
      send({ cmd: 'probe', name });
      return (await done).status;
    },
    load(opts) {
      send({ cmd: 'load', ...opts });
    },
    async stop() {
      const done = expect('stopped');
      send({ cmd: 'stop' });
      return (await done).stats;
    },
    async deliveries() {
      const done = expect('hooks');
      send({ cmd: 'hooks' });
      return (await done).deliveries;
    },
    async cpuSeconds() {
      const done = expect('cpu');
      send({ cmd: 'cpu' });
      const answer = await done;
      tid = answer.tid;
      return answer.seconds;
    },
    tid: () => tid,
    async close() {
      const done = expect('closed');
      send({ cmd: 'close' });
      await done;
      await worker.terminate();
    },
  };
}
