// Hostile senders: one whole vigil (embedded) in this process takes, one request at a time, the
// bodies an attacker holding a source credential (or none) would send to each ingest route —
// huge arrays of tiny invalid items, many tiny NDJSON lines, huge strings, deep nesting, gzip
// bombs, OTLP requests of many empty spans or one span of many attributes — and, for each, the
// worst event-loop block while it was processed (monitorEventLoopDelay's max, the vigil and this
// client share the loop) and the slowest answer of the admin /healthz polled meanwhile. Also: the
// bytes of an unauthenticated 16 MiB upload vigil read before answering, and µs per item of the
// generic collector's parse for valid and invalid items.
//
// Uses only what the collectors offered before the hostile-input work as well (startVigil, the
// routes, parseGenericBody), so the same file measures an older build: copy it into that tree.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { request } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { credentials, Client, Metadata } from '@grpc/grpc-js';
import protobuf from 'protobufjs/minimal.js';
import { Webhook } from 'standardwebhooks';
import { startVigil } from '../../src/cli/app.js';
import { parseGenericBody } from '../../src/collectors/generic/server.js';
import { loadConfig } from '../../src/config/index.js';
import { createTokenizer } from '../../src/privacy/index.js';
import { createLogger } from '../../src/telemetry/index.js';
import { round, sleep } from '../lib/measure.js';
import { type StageOptions, stageMain } from '../lib/stage.js';
import { createGenericLines } from '../lib/workload.js';

export interface HostileStageOptions extends StageOptions {
  /** VIGIL_MAX_BODY_BYTES of the vigil under test. */
  readonly maxBodyBytes: number;
  /** Tiny items in the "many items" bodies (the issue's example: 1,000,000 `{}`). */
  readonly items: number;
  /** Size of the bodies that fill up to a size (many tiny lines, huge strings, many spans). */
  readonly fillBytes: number;
  /** Nesting depth of the deep bodies. */
  readonly depth: number;
  /** Client timeout of one request. */
  readonly requestTimeoutMs: number;
  /** Items per body of the µs/item measure. */
  readonly parseItems: number;
}

export interface HostileProbe {
  readonly route: string;
  readonly body: string;
  readonly sent_bytes: number;
  readonly status: number | string;
  readonly ms: number;
  /** Worst event-loop delay while the request was processed (monitorEventLoopDelay's max). */
  readonly loop_block_ms: number;
  /** The same seen by a 5 ms timer: its largest lateness. */
  readonly timer_lag_ms: number;
  /** Slowest /healthz answer polled on the admin port meanwhile. */
  readonly healthz_max_ms: number;
  readonly response_bytes: number;
  readonly rss_mb: number;
}

export interface HostileStageResult {
  readonly max_body_bytes: number;
  readonly probes: HostileProbe[];
  /** Route → the worst of its probes. */
  readonly worst_loop_block_ms: Record<string, number>;
  readonly worst_healthz_ms: Record<string, number>;
  /** Unauthenticated upload of max_body_bytes: what vigil read before it answered. */
  readonly unauthenticated: {
    readonly status: number | string;
    readonly ms: number;
    readonly bytes_written_before_answer: number;
    readonly upload_bytes: number;
  };
  /** parseGenericBody per item (CPU time of this process). */
  readonly generic_parse_us_per_item: Record<string, number>;
  readonly rss_mb_start: number;
  readonly rss_mb_peak: number;
}

const HOOP_SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const rssMb = () => round(process.memoryUsage().rss / 2 ** 20);

// --------------------------------------------------------------------------------------- bodies

const repeatLines = (line: string, n: number) => Buffer.from(`${line}\n`.repeat(n));
const jsonArray = (item: string, n: number) =>
  Buffer.from(`[${`${item},`.repeat(Math.max(0, n - 1))}${item}]`);
const deepArray = (depth: number) => Buffer.from(`${'['.repeat(depth)}${']'.repeat(depth)}`);

const { Writer } = protobuf;
const tag = (field: number, wire: number) => (field << 3) | wire;

/** ExportTraceServiceRequest {resource_spans {scope_spans {spans: `spans` × bytes}}}. */
function otlpProto(spans: Uint8Array[]): Buffer {
  const w = Writer.create();
  w.uint32(tag(1, 2)).fork(); // resource_spans
  w.uint32(tag(2, 2)).fork(); // scope_spans
  for (const s of spans) w.uint32(tag(2, 2)).bytes(s);
  w.ldelim().ldelim();
  const out = w.finish();
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

/** As many empty spans as fit in `bytes`. */
function manyEmptySpans(bytes: number): Buffer {
  return otlpProto(Array.from({ length: Math.floor((bytes - 16) / 2) }, () => new Uint8Array(0)));
}

/** One span holding as many distinct string attributes as fit in `bytes`. */
function manyAttributes(bytes: number): Buffer {
  const w = Writer.create();
  let i = 0;
  const kv = Writer.create();
  // Each KeyValue {key: k<i>, value: {string_value: "v"}} is ~16 bytes with its tag.
  while (kv.len < bytes - 64) {
    kv.uint32(tag(9, 2)).fork();
    kv.uint32(tag(1, 2)).string(`k${(i++).toString(36)}`);
    kv.uint32(tag(2, 2)).fork().uint32(tag(1, 2)).string('v').ldelim();
    kv.ldelim();
  }
  w.uint32(tag(1, 2)).bytes(randomBytes(16)).uint32(tag(2, 2)).bytes(randomBytes(8));
  const head = w.finish();
  const attrs = kv.finish();
  const span = new Uint8Array(head.length + attrs.length);
  span.set(head);
  span.set(attrs, head.length);
  return otlpProto([span]);
}

function otlpJsonManySpans(n: number): Buffer {
  return Buffer.from(
    `{"resourceSpans":[{"scopeSpans":[{"spans":[${'{},'.repeat(Math.max(0, n - 1))}{}]}]}]}`,
  );
}

function otlpJsonDeep(depth: number): Buffer {
  return Buffer.from(
    `{"resourceSpans":[{"resource":{"attributes":[{"key":"k","value":${'{"kvlistValue":{"values":[{"key":"x","value":'.repeat(depth)}{}${'}]}}'.repeat(depth)}}]}}]}`,
  );
}

// ------------------------------------------------------------------------------------- senders

interface Answer {
  readonly status: number | string;
  readonly bytes: number;
}

async function post(
  url: string,
  body: Buffer,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<Answer> {
  try {
    const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
    // Read as bytes only: parsing a 100 MB answer here would block the loop being measured.
    return { status: res.status, bytes: (await res.arrayBuffer()).byteLength };
  } catch (err) {
    const e = err as Error;
    return {
      status: e.name === 'TimeoutError' ? 'timeout' : `error: ${String(e.cause ?? e.message).slice(0, 80)}`,
      bytes: 0,
    };
  }
}

function grpcExport(address: string, token: string, body: Buffer, timeoutMs: number): Promise<Answer> {
  const client = new Client(address, credentials.createInsecure(), {
    'grpc.max_send_message_length': -1,
  });
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return new Promise<Answer>((resolve) => {
    client.makeUnaryRequest(
      '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
      (b: Buffer) => b,
      (b: Buffer) => b,
      body,
      metadata,
      { deadline: Date.now() + timeoutMs },
      (err, value) => {
        client.close();
        resolve(
          err ? { status: `grpc ${err.code}`, bytes: 0 } : { status: 'grpc 0', bytes: value?.length ?? 0 },
        );
      },
    );
  });
}

/**
 * Streams `bytes` to `url` without credentials, 64 KiB at a time (waiting for the socket to drain);
 * counts what was written when the answer arrived.
 */
function unauthenticatedUpload(
  url: string,
  bytes: number,
  timeoutMs: number,
): Promise<HostileStageResult['unauthenticated']> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let written = 0;
    let answered = false;
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const req = request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-ndjson',
        'content-length': String(bytes),
        authorization: 'Bearer wrong',
      },
    });
    const done = (status: number | string) => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      resolve({
        status,
        ms: round(performance.now() - t0, 1),
        bytes_written_before_answer: written,
        upload_bytes: bytes,
      });
      req.destroy();
    };
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    req.on('response', (res) => {
      done(res.statusCode ?? 0);
      res.resume();
    });
    req.on('error', (err) => done(`error: ${err.message.slice(0, 60)}`));
    const pump = () => {
      while (!answered && written < bytes) {
        const n = Math.min(chunk.length, bytes - written);
        written += n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n)))
          return void req.once('drain', pump);
      }
      if (!answered) req.end();
    };
    pump();
  });
}

// ----------------------------------------------------------------------------------------- stage

async function run(o: HostileStageOptions): Promise<HostileStageResult> {
  const dataDir = `${process.env.TMPDIR ?? '/tmp'}/vigil-bench-hostile-${randomBytes(4).toString('hex')}`;
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    VIGIL_DATA_DIR: dataDir,
    VIGIL_HOST: '127.0.0.1',
    VIGIL_COLLECTOR_PORT: '0',
    VIGIL_ADMIN_PORT: '0',
    VIGIL_OTLP_HTTP_PORT: '0',
    VIGIL_OTLP_GRPC_PORT: '0',
    VIGIL_LOG_LEVEL: 'silent',
    VIGIL_MAX_BODY_BYTES: String(o.maxBodyBytes),
    VIGIL_HOOP_WEBHOOK_SECRET: HOOP_SECRET,
    VIGIL_ADMIN_TOKEN: `adm-${randomBytes(8).toString('hex')}`,
    KAFKA_BROKERS: '',
    REDIS_URL: '',
    CLICKHOUSE_URL: '',
  };
  const app = await startVigil(
    loadConfig(env),
    { logger: createLogger('silent', 'bench'), roles: ['collector', 'store'] },
    env,
  );
  const rssStart = rssMb();
  let rssPeak = rssStart;
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const probes: HostileProbe[] = [];
  const healthz = `${app.adminUrl}/healthz`;
  const tokens = app.sourceTokens;
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
  const ndjson = { ...bearer(tokens.generic), 'content-type': 'application/x-ndjson' };
  const json = { ...bearer(tokens.generic), 'content-type': 'application/json' };
  const gz = { 'content-encoding': 'gzip' };
  const teleport = `${app.collectorUrl}/v1/teleport/events`;
  const events = `${app.collectorUrl}/v1/events`;
  const traces = `${app.otlpHttpUrl}/v1/traces`;
  const hoopUrl = `${app.collectorUrl}/v1/hoop/webhooks`;
  const hoopSigned = (body: Buffer, valid: boolean): Record<string, string> => {
    const id = `msg_${randomBytes(8).toString('hex')}`;
    const now = new Date();
    const sig = new Webhook(HOOP_SECRET).sign(id, now, valid ? body.toString() : 'another body');
    return {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': sig,
    };
  };

  const measure = async (route: string, name: string, sentBytes: number, send: () => Promise<Answer>) => {
    if (typeof globalThis.gc === 'function') globalThis.gc();
    await sleep(50);
    loop.reset();
    let lagMax = 0;
    let expected = performance.now() + 5;
    const lagTimer = setInterval(() => {
      const t = performance.now();
      lagMax = Math.max(lagMax, t - expected);
      expected = t + 5;
    }, 5);
    let inFlight = true;
    let healthzMax = 0;
    const poll = (async () => {
      while (inFlight) {
        const t = performance.now();
        try {
          // With the admin token: an unauthenticated probe would itself be a refused credential.
          await fetch(healthz, {
            headers: { authorization: `Bearer ${app.adminToken}` },
            signal: AbortSignal.timeout(o.requestTimeoutMs),
          }).then((r) => r.arrayBuffer());
        } catch {
          // counted by its time
        }
        healthzMax = Math.max(healthzMax, performance.now() - t);
        await sleep(20);
      }
    })();
    const t0 = performance.now();
    const answer = await send();
    const ms = performance.now() - t0;
    inFlight = false;
    clearInterval(lagTimer);
    await poll;
    const rss = rssMb();
    rssPeak = Math.max(rssPeak, rss);
    const probe: HostileProbe = {
      route,
      body: name,
      sent_bytes: sentBytes,
      status: answer.status,
      ms: round(ms, 1),
      loop_block_ms: round(loop.max / 1e6, 1),
      timer_lag_ms: round(lagMax, 1),
      healthz_max_ms: round(healthzMax, 1),
      response_bytes: answer.bytes,
      rss_mb: rss,
    };
    probes.push(probe);
    process.stderr.write(`[bench] hostile ${route} ${name}: ${JSON.stringify(probe)}\n`);
  };
  const httpCase = (
    route: string,
    name: string,
    url: string,
    body: Buffer,
    headers: Record<string, string>,
  ) => measure(route, name, body.length, () => post(url, body, headers, o.requestTimeoutMs));

  const fill = o.fillBytes;
  const zeros = gzipSync(Buffer.alloc(Math.max(64 * 2 ** 20, o.maxBodyBytes * 4)), { level: 9 });
  try {
    // NDJSON (generic).
    await httpCase('ndjson', `${o.items} {} lines, gzip`, events, gzipSync(repeatLines('{}', o.items)), {
      ...ndjson,
      ...gz,
    });
    await httpCase(
      'ndjson',
      `tiny lines "1" filling ${fill} B, gzip`,
      events,
      gzipSync(repeatLines('1', Math.floor(fill / 2))),
      { ...ndjson, ...gz },
    );
    const missingUser = '{"time":1,"tenant":"t","system":"s","operation":"o"}';
    await httpCase(
      'ndjson',
      `objects missing a required field filling ${fill} B, gzip`,
      events,
      gzipSync(repeatLines(missingUser, Math.floor(fill / (missingUser.length + 1)))),
      { ...ndjson, ...gz },
    );
    await httpCase('ndjson', `one line nested ${o.depth} deep`, events, deepArray(o.depth), ndjson);
    const huge = Buffer.from(
      `{"time":1,"tenant":"t","user":"u","system":"s","operation":"o","query":"${'a'.repeat(fill - 100)}"}`,
    );
    await httpCase('ndjson', `one ${fill} B string`, events, huge, ndjson);
    await httpCase('ndjson', 'gzip bomb', events, zeros, { ...ndjson, ...gz });
    // JSON array (generic).
    await httpCase('json_array', `[${o.items} × {}], gzip`, events, gzipSync(jsonArray('{}', o.items)), {
      ...json,
      ...gz,
    });
    await httpCase(
      'json_array',
      `[1,1,…] filling ${fill} B, gzip`,
      events,
      gzipSync(jsonArray('1', Math.floor(fill / 2))),
      { ...json, ...gz },
    );
    await httpCase('json_array', `[[[…]]] ${o.depth} deep`, events, deepArray(o.depth), json);
    // Teleport.
    const tpHeaders = { ...bearer(tokens.teleport), 'content-type': 'application/x-ndjson' };
    await httpCase(
      'teleport',
      `${o.items} {"event":"db.session.query"} lines, gzip`,
      teleport,
      gzipSync(repeatLines('{"event":"db.session.query"}', o.items)),
      { ...tpHeaders, ...gz },
    );
    await httpCase('teleport', `[${o.items} × {}], gzip`, teleport, gzipSync(jsonArray('{}', o.items)), {
      ...tpHeaders,
      'content-type': 'application/json',
      ...gz,
    });
    await httpCase('teleport', `[[[…]]] ${o.depth} deep`, teleport, deepArray(o.depth), {
      ...tpHeaders,
      'content-type': 'application/json',
    });
    await httpCase('teleport', 'gzip bomb', teleport, zeros, { ...tpHeaders, ...gz });
    // OTLP/HTTP.
    const otlpProtoHeaders = { ...bearer(tokens.otlp), 'content-type': 'application/x-protobuf' };
    const otlpJsonHeaders = { ...bearer(tokens.otlp), 'content-type': 'application/json' };
    const emptySpans = manyEmptySpans(fill);
    const attributes = manyAttributes(fill);
    await httpCase(
      'otlp_http',
      `protobuf: empty spans filling ${fill} B, gzip`,
      traces,
      gzipSync(emptySpans),
      { ...otlpProtoHeaders, ...gz },
    );
    await httpCase(
      'otlp_http',
      `protobuf: one span of attributes filling ${fill} B, gzip`,
      traces,
      gzipSync(attributes),
      { ...otlpProtoHeaders, ...gz },
    );
    await httpCase(
      'otlp_http',
      `json: ${o.items} empty spans, gzip`,
      traces,
      gzipSync(otlpJsonManySpans(o.items)),
      { ...otlpJsonHeaders, ...gz },
    );
    await httpCase(
      'otlp_http',
      `json: empty spans filling ${fill} B, gzip`,
      traces,
      gzipSync(otlpJsonManySpans(Math.floor((fill - 64) / 3))),
      { ...otlpJsonHeaders, ...gz },
    );
    await httpCase(
      'otlp_http',
      `json: kvlist nested ${Math.floor(o.depth / 10)} deep`,
      traces,
      otlpJsonDeep(Math.floor(o.depth / 10)),
      otlpJsonHeaders,
    );
    await httpCase('otlp_http', `json: [[[…]]] ${o.depth} deep`, traces, deepArray(o.depth), otlpJsonHeaders);
    await httpCase('otlp_http', 'gzip bomb', traces, zeros, { ...otlpProtoHeaders, ...gz });
    // OTLP/gRPC (grpc-js applies the size limit itself).
    if (app.otlpGrpcAddress) {
      const addr = app.otlpGrpcAddress;
      await measure('otlp_grpc', `empty spans filling ${fill} B`, emptySpans.length, () =>
        grpcExport(addr, tokens.otlp, emptySpans, o.requestTimeoutMs),
      );
      await measure('otlp_grpc', `one span of attributes filling ${fill} B`, attributes.length, () =>
        grpcExport(addr, tokens.otlp, attributes, o.requestTimeoutMs),
      );
    }
    // hoop.dev webhooks: unsigned or forged bodies first, then signed hostile ones.
    const hoopBig = Buffer.from(
      `{"event_type":"session.open","id":"x","user_email":"a@b.c","input":"${'A'.repeat(fill - 200)}"}`,
    );
    await httpCase('hoop', `${fill} B body, forged signature`, hoopUrl, hoopBig, hoopSigned(hoopBig, false));
    await httpCase('hoop', 'gzip bomb, forged signature', hoopUrl, zeros, {
      ...hoopSigned(zeros, false),
      ...gz,
    });
    await httpCase('hoop', `${fill} B body, no signature headers`, hoopUrl, hoopBig, {
      'content-type': 'application/json',
    });
    const hoopDeep = deepArray(o.depth);
    await httpCase('hoop', `signed [[[…]]] ${o.depth} deep`, hoopUrl, hoopDeep, hoopSigned(hoopDeep, true));
    await httpCase('hoop', `signed ${fill} B body`, hoopUrl, hoopBig, hoopSigned(hoopBig, true));
  } finally {
    loop.disable();
  }
  const unauthenticated = await unauthenticatedUpload(events, o.maxBodyBytes, o.requestTimeoutMs);
  process.stderr.write(`[bench] hostile unauthenticated upload: ${JSON.stringify(unauthenticated)}\n`);
  await app.stop();
  rmSync(dataDir, { recursive: true, force: true });

  // parseGenericBody per item: valid events, `{}`, and objects zod has to look at.
  const tokenizer = createTokenizer({ version: 1, secret: randomBytes(32) });
  const line = createGenericLines(1_000);
  const now = Date.now();
  const bodies: Record<string, Buffer> = {
    valid: Buffer.from(
      Array.from({ length: o.parseItems }, (_, i) => line(`p-${i}`, now - 1_000)).join('\n'),
    ),
    empty_object: repeatLines('{}', o.parseItems),
    missing_field: repeatLines('{"time":1,"tenant":"t","system":"s","operation":"o"}', o.parseItems),
    wrong_type: repeatLines('{"time":1,"tenant":"t","user":5,"system":"s","operation":"o"}', o.parseItems),
    not_object: repeatLines('1', o.parseItems),
  };
  const perItem: Record<string, number> = {};
  for (const [name, body] of Object.entries(bodies)) {
    parseGenericBody(body, 'application/x-ndjson', { tokenizer }, now); // warm-up
    const cpu = process.cpuUsage();
    let runs = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < 1_000 || runs < 2) {
      parseGenericBody(body, 'application/x-ndjson', { tokenizer }, now);
      runs++;
    }
    const d = process.cpuUsage(cpu);
    perItem[name] = round((d.user + d.system) / (runs * o.parseItems), 2);
  }

  const worst = (pick: (p: HostileProbe) => number) => {
    const out: Record<string, number> = {};
    for (const p of probes) out[p.route] = Math.max(out[p.route] ?? 0, pick(p));
    return out;
  };
  return {
    max_body_bytes: o.maxBodyBytes,
    probes,
    worst_loop_block_ms: worst((p) => p.loop_block_ms),
    worst_healthz_ms: worst((p) => p.healthz_max_ms),
    unauthenticated,
    generic_parse_us_per_item: perItem,
    rss_mb_start: rssStart,
    rss_mb_peak: rssPeak,
  };
}

stageMain(run);
