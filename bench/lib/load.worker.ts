// The outside world of the end-to-end benchmarks, in a worker thread of its own (its own event
// loop, so neither side's timing waits on the other's callbacks):
//   - gateways posting generic NDJSON to the collector, `concurrency` requests in flight, each
//     retried after 429/503 as a gateway would;
//   - probes (see workload.probeLine) slipped into that traffic, or sent alone at idle;
//   - the containment target: a Standard Webhooks receiver that verifies each delivery and notes
//     when it acknowledged it.
import { readFileSync, readlinkSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { Webhook } from 'standardwebhooks';
import { Pool } from 'undici';
import { statCpuSeconds } from './measure.js';
import { createGenericLines, probeLine } from './workload.js';

export interface LoadWorkerData {
  readonly token: string;
  readonly webhookSecret: string;
  readonly identities: number;
  readonly concurrency: number;
  readonly perBody: number;
  readonly runId: string;
}

export type LoadCommand =
  | { readonly cmd: 'target'; readonly url: string }
  | { readonly cmd: 'probe'; readonly name: string }
  | { readonly cmd: 'prime' }
  | {
      readonly cmd: 'load';
      readonly probeEveryMs: number;
      readonly probePrefix: string;
      /** Events a second across all gateways; 0: as fast as vigil takes them. */
      readonly rate: number;
      readonly perBody: number;
    }
  | { readonly cmd: 'stop' }
  | { readonly cmd: 'hooks' }
  | { readonly cmd: 'cpu' }
  | { readonly cmd: 'close' };

export interface LoadStats {
  readonly requests: number;
  readonly accepted: number;
  readonly throttled: number;
  readonly errors: number;
  readonly probes: string[];
  readonly lastError?: string;
}

export interface Delivery {
  readonly findingId: string;
  /** Epoch ms when the receiver acknowledged (answered 200). */
  readonly at: number;
  readonly verified: boolean;
}

export type LoadReply =
  | { readonly type: 'ready'; readonly hookUrl: string }
  | { readonly type: 'probed'; readonly name: string; readonly status: number }
  | { readonly type: 'primed'; readonly accepted: number }
  | { readonly type: 'stopped'; readonly stats: LoadStats }
  | { readonly type: 'hooks'; readonly deliveries: Delivery[] }
  /** This thread's CPU seconds so far (NaN where the OS does not tell a thread's own). */
  | { readonly type: 'cpu'; readonly seconds: number; readonly tid?: number }
  | { readonly type: 'closed' };

/**
 * This thread's user + system CPU seconds (Linux: /proc/thread-self/stat), so the bench can take
 * the load generator's share out of the process's.
 */
function threadCpuSeconds(): number {
  try {
    return statCpuSeconds(readFileSync('/proc/thread-self/stat', 'utf8'));
  } catch {
    return Number.NaN;
  }
}

/** This thread's OS id (/proc/thread-self links to <pid>/task/<tid>); undefined elsewhere. */
function ownThreadId(): number | undefined {
  try {
    return Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return undefined;
  }
}

const data = workerData as LoadWorkerData;
const port = parentPort!;
const reply = (m: LoadReply) => port.postMessage(m);

const deliveries: Delivery[] = [];
const verifier = new Webhook(data.webhookSecret);

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const hooks = createServer((req, res) => {
  readBody(req).then(
    (body) => {
      let verified = false;
      let findingId = '';
      try {
        const doc = verifier.verify(body, req.headers as Record<string, string>) as {
          finding?: { id?: string };
        };
        verified = true;
        findingId = doc.finding?.id ?? '';
      } catch {
        verified = false;
      }
      res.writeHead(verified ? 200 : 400).end();
      deliveries.push({ findingId, at: Date.now(), verified });
    },
    () => res.writeHead(400).end(),
  );
});

let pool: Pool | undefined;
const headers = { authorization: `Bearer ${data.token}`, 'content-type': 'application/x-ndjson' };

async function post(body: string): Promise<number> {
  if (!pool) throw new Error('no target yet');
  const res = await pool.request({ path: '/v1/events', method: 'POST', headers, body });
  await res.body.dump();
  return res.statusCode;
}

const line = createGenericLines(data.identities, 7);
let seq = 0;
let idleProbes = 0;
let probesSent = 0;
let running = false;
let loops: Promise<void>[] = [];
const stats = {
  requests: 0,
  accepted: 0,
  throttled: 0,
  errors: 0,
  probes: [] as string[],
  lastError: undefined as string | undefined,
};

interface Pace {
  readonly rate: number;
  next: number;
}

async function loop(
  m: Extract<LoadCommand, { cmd: 'load' }>,
  nextProbe: { at: number; n: number },
  pace: Pace,
) {
  const { probeEveryMs, probePrefix, perBody } = m;
  while (running) {
    if (pace.rate > 0) {
      // One shared schedule: a body every perBody / rate seconds, whichever gateway sends it.
      const slot = Math.max(pace.next, Date.now());
      pace.next = slot + (perBody * 1000) / pace.rate;
      if (slot > Date.now()) await new Promise((r) => setTimeout(r, slot - Date.now()));
      if (!running) break;
    }
    const now = Date.now();
    const lines: string[] = [];
    for (let i = 0; i < perBody; i++) lines.push(line(`${data.runId}-${seq++}`, now));
    if (probeEveryMs > 0 && now >= nextProbe.at) {
      const n = nextProbe.n++;
      const name = `${probePrefix}-${n}`;
      nextProbe.at = now + probeEveryMs;
      // Each probe from another identity: every probe opens its own incident.
      lines.push(probeLine(name, now, `user-${(n * 7) % data.identities}`));
      stats.probes.push(name);
    }
    const body = `${lines.join('\n')}\n`;
    for (;;) {
      stats.requests++;
      let status: number;
      try {
        status = await post(body);
      } catch (err) {
        stats.errors++;
        stats.lastError = String(err);
        break;
      }
      if (status === 200) {
        stats.accepted += lines.length;
        break;
      }
      if (status === 429 || status === 503) {
        // A gateway backs off and retries the same batch (event ids make the retry harmless).
        stats.throttled++;
        await new Promise((r) => setTimeout(r, 25));
        continue;
      }
      stats.errors++;
      stats.lastError = `HTTP ${status}`;
      break;
    }
  }
}

/** Every identity once, `concurrency` bodies at a time: the organisation as vigil knows it in steady state. */
async function prime(): Promise<number> {
  let next = 0;
  let accepted = 0;
  const now = Date.now();
  await Promise.all(
    Array.from({ length: data.concurrency }, async () => {
      for (let from = next; from < data.identities; from = next) {
        next = Math.min(data.identities, from + data.perBody);
        const lines: string[] = [];
        for (let i = from; i < next; i++) lines.push(line(`${data.runId}-prime-${i}`, now, i));
        if ((await post(`${lines.join('\n')}\n`)) === 200) accepted += lines.length;
      }
    }),
  );
  return accepted;
}

port.on('message', (m: LoadCommand) => {
  switch (m.cmd) {
    case 'target':
      pool = new Pool(new URL(m.url).origin, { connections: data.concurrency + 2, keepAliveTimeout: 60_000 });
      break;
    case 'probe':
      post(`${probeLine(m.name, Date.now(), `user-${data.identities - 1 - idleProbes++}`)}\n`).then(
        (status) => reply({ type: 'probed', name: m.name, status }),
        () => reply({ type: 'probed', name: m.name, status: 0 }),
      );
      break;
    case 'prime':
      prime().then(
        (accepted) => reply({ type: 'primed', accepted }),
        () => reply({ type: 'primed', accepted: 0 }),
      );
      break;
    case 'load': {
      // Each load phase reports its own numbers.
      Object.assign(stats, {
        requests: 0,
        accepted: 0,
        throttled: 0,
        errors: 0,
        probes: [],
        lastError: undefined,
      });
      running = true;
      // Probe numbers run on across phases: each probe's identity opens an incident of its own.
      const nextProbe = { at: Date.now() + m.probeEveryMs, n: probesSent };
      const pace: Pace = { rate: m.rate, next: Date.now() };
      loops = Array.from({ length: data.concurrency }, () => loop(m, nextProbe, pace));
      break;
    }
    case 'stop':
      running = false;
      probesSent += stats.probes.length;
      void Promise.all(loops).then(() =>
        reply({ type: 'stopped', stats: { ...stats, probes: [...stats.probes] } }),
      );
      break;
    case 'cpu':
      reply({ type: 'cpu', seconds: threadCpuSeconds(), tid: ownThreadId() });
      break;
    case 'hooks':
      reply({ type: 'hooks', deliveries: [...deliveries] });
      break;
    case 'close':
      void Promise.all([pool?.close(), new Promise((r) => hooks.close(r))]).then(() => {
        reply({ type: 'closed' });
        port.close();
      });
      break;
  }
});

hooks.listen(0, '127.0.0.1', () => {
  reply({ type: 'ready', hookUrl: `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hook` });
});
