// Synthetic traffic of an organisation with N identities, for the throughput benchmarks: generic
// gateway NDJSON lines and OTLP protobuf requests of DB client spans. Realistic repetition: who
// calls follows a Zipf law (a few service accounts and power users make most calls), each identity
// keeps one or two API keys and a home address (/24 networks shared by ~64 identities), sessions
// and traces last a few dozen calls. Seeded, so every run sees the same traffic.
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { prng } from '../../src/cli/demo/workload.js';
import { encodeTraceRequest, type ResourceSpec, type SpanSpec } from '../../test/helpers/otlp-proto.js';

export const BENCH_TENANT = 'bench';
const COLLECTIONS = Array.from({ length: 32 }, (_, i) => `kb_team${i}`);
const SYSTEMS = ['qdrant', 'weaviate', 'milvus', 'pinecone'];
const OPERATIONS = ['search', 'search', 'search', 'search', 'search', 'search', 'fetch', 'scroll', 'upsert'];

/** Draws identity indexes 0 … n−1 with probability ∝ 1 / (rank+1)^s (binary search over the CDF). */
export function zipf(n: number, s: number, rand: () => number): () => number {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += 1 / (i + 1) ** s;
    cdf[i] = total;
  }
  return () => {
    const x = rand() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** One identity's raw identifiers, as a gateway would report them. */
export interface Caller {
  readonly user: string;
  readonly credential: string;
  readonly session: string;
  readonly ip: string;
  readonly index: number;
}

/** The caller stream: who makes the next call, with which key, from where, in which session. */
export function createCallers(identities: number, seed = 7): () => Caller {
  const rand = prng(seed);
  const next = zipf(identities, 0.9, rand);
  const sessionNo = new Uint32Array(identities);
  return () => {
    const i = next();
    // A session lasts ~40 calls on average.
    if (rand() < 1 / 40) sessionNo[i]!++;
    return callerOf(i, rand() < 0.8 ? 'a' : 'b', sessionNo[i]!);
  };
}

function callerOf(i: number, key: 'a' | 'b', session: number): Caller {
  return {
    index: i,
    user: `user-${i}`,
    credential: `apikey-${i}-${key}`,
    session: `s-${i}-${session}`,
    ip: `10.${(i >> 14) & 255}.${(i >> 6) & 255}.${1 + (i & 63)}`,
  };
}

/**
 * Generic gateway event lines (JSON text, no trailing newline), built from a template so a load
 * generator can make 100,000 a second without needing a core of its own. `id` keeps event ids
 * unique across runs and bodies.
 */
export function createGenericLines(
  identities: number,
  seed = 7,
): (id: string, time: number, who?: number) => string {
  const rand = prng(seed + 1);
  const caller = createCallers(identities, seed);
  return (id, time, who) => {
    // `who`: this identity (its first key and session), instead of the next Zipf draw.
    const c = who === undefined ? caller() : callerOf(who, 'a', 0);
    const op = OPERATIONS[Math.floor(rand() * OPERATIONS.length)]!;
    const returned = op === 'search' ? 10 : op === 'scroll' ? 100 : op === 'upsert' ? 0 : 1;
    const collection = COLLECTIONS[(c.index + Math.floor(rand() * 3)) % COLLECTIONS.length];
    return (
      `{"id":"${id}","time":${time},"tenant":"${BENCH_TENANT}","user":"${c.user}","credential":"${c.credential}",` +
      `"session":"${c.session}","src_ip":"${c.ip}","client":"rag-api/5.1","system":"${SYSTEMS[c.index % SYSTEMS.length]}",` +
      `"operation":"${op}","collection":"${collection}",${op === 'search' ? '"top_k":10,' : ''}"returned":${returned},` +
      `"bytes_out":${returned * 2048},"status_code":200,"latency_ms":${Math.round(3 + rand() * 40)}}`
    );
  };
}

/**
 * A probe: one use of a credential the gateway reports revoked, still allowed. The auth-failures
 * detector turns it into a critical finding at once (no warm-up), which opens an incident and
 * runs the response webhook: what detection latency and time to contain are measured on. The
 * caller is a known identity (`user`), so the probe measures the flow of steady state, not the
 * first sight of an identity; the credential is the probe's own (`key-<name>`).
 */
export function probeLine(name: string, time: number, user: string): string {
  return (
    `{"id":"${name}","time":${time},"tenant":"${BENCH_TENANT}","user":"${user}","credential":"key-${name}",` +
    `"system":"qdrant","operation":"search","collection":"kb_team0","outcome":"allowed","error_type":"revoked"}`
  );
}

/** NDJSON bodies of `perBody` generic events each. */
export function genericBodies(identities: number, bodies: number, perBody: number, runId: string): Buffer[] {
  const line = createGenericLines(identities);
  const now = Date.now();
  const out: Buffer[] = [];
  let seq = 0;
  for (let b = 0; b < bodies; b++) {
    const lines: string[] = [];
    for (let i = 0; i < perBody; i++) lines.push(line(`${runId}-${seq++}`, now - 60_000 + (seq % 60_000)));
    out.push(Buffer.from(`${lines.join('\n')}\n`));
  }
  return out;
}

/**
 * ExportTraceServiceRequest bodies (gzip) of `perRequest` DB client spans with 20 attributes each,
 * from 10 services (one resource each); a trace holds ~4 consecutive DB calls of one identity.
 */
export function otlpRequests(identities: number, requests: number, perRequest: number): Buffer[] {
  const rand = prng(11);
  const caller = createCallers(identities, 13);
  const nowNs = BigInt(Date.now() - 60_000) * 1_000_000n;
  const out: Buffer[] = [];
  let c = caller();
  let traceId = randomBytes(16);
  for (let r = 0; r < requests; r++) {
    const byService: SpanSpec[][] = Array.from({ length: 10 }, () => []);
    for (let i = 0; i < perRequest; i++) {
      if (rand() < 0.25) {
        c = caller();
        traceId = randomBytes(16);
      }
      const op = OPERATIONS[Math.floor(rand() * OPERATIONS.length)]!;
      const system = SYSTEMS[c.index % SYSTEMS.length]!;
      const collection = COLLECTIONS[(c.index + i) % COLLECTIONS.length]!;
      const start = nowNs + BigInt(r * perRequest + i) * 1_000_000n;
      byService[c.index % 10]!.push({
        traceId,
        spanId: randomBytes(8),
        name: `${op} ${collection}`,
        kind: 3,
        start,
        end: start + BigInt(2_000_000 + Math.floor(rand() * 30_000_000)),
        status: { code: 0 },
        attrs: [
          ['db.system.name', system],
          ['db.collection.name', collection],
          ['db.namespace', 'prod'],
          ['db.operation.name', op],
          ['db.query.summary', `${op} ${collection}`],
          ['db.response.status_code', '200'],
          ['db.response.returned_rows', 10n],
          ['db.vector.query.top_k', 10n],
          ['db.user', c.credential],
          ['enduser.id', c.user],
          ['client.address', c.ip],
          ['server.address', `${system}.vector.internal`],
          ['server.port', 6333n],
          ['network.peer.address', '10.99.0.7'],
          ['network.peer.port', 6333n],
          ['network.protocol.name', 'http'],
          ['code.function.name', 'retrieve_context'],
          ['code.file.path', '/srv/app/rag/retriever.py'],
          ['code.line.number', 182n],
          ['thread.name', 'worker-3'],
        ],
      });
    }
    const resources: ResourceSpec[] = byService.map((spans, s) => ({
      attrs: [
        ['service.name', `rag-service-${s}`],
        ['service.version', '5.1.0'],
        ['service.instance.id', `pod-${s}-7f9c`],
        ['host.name', `node-${s}.cluster.local`],
        ['deployment.environment.name', 'production'],
        ['telemetry.sdk.name', 'opentelemetry'],
        ['telemetry.sdk.language', 'python'],
        ['telemetry.sdk.version', '1.30.0'],
        ['vigil.tenant', BENCH_TENANT],
      ],
      scope: 'opentelemetry.instrumentation.qdrant',
      spans,
    }));
    out.push(gzipSync(encodeTraceRequest(resources)));
  }
  return out;
}
