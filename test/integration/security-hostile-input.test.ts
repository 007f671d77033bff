// Hostile input at the edges, beyond the random-body fuzz of fuzz-endpoints.test.ts: bodies over
// the limit, gzip and deflate bombs, deep nesting, wrong types, lone surrogates, forged webhook
// signatures, SQL-looking values, terminal and CEF escape injection — with memory bounded, and the
// audit trail still verifying intact over whatever was stored. Hostile senders too: bodies of more
// items than a request may hold, the largest bodies a request may carry while the admin /healthz
// must keep answering, uploads without credentials (refused before their body is read), refused
// credentials counted, logged and throttled, and senders that trickle their request.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type IncomingMessage, request } from 'node:http';
import { deflateSync, gzipSync } from 'node:zlib';
import { Client, credentials, Metadata, status as grpcStatus } from '@grpc/grpc-js';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toCef } from '../../src/export/index.js';
import { DEFAULT_MAX_ITEMS, TOO_DEEP_REASON } from '../../src/collectors/ndjson.js';
import type { VerifyReport } from '../../src/store/audit-chain/index.js';
import { listFindings } from '../../src/store/index.js';
import { parseCef } from '../helpers/cef-parse.js';
import { VIGIL_BIN } from '../helpers/child.js';
import { startServeChild } from '../helpers/serve-child.js';
import { makeFinding, makeGenericEvent } from '../helpers/factories.js';
import { makeHoopSessionOpen, signHoopWebhook } from '../helpers/gateway-fixtures.js';
import { encodeTraceRequest } from '../helpers/otlp-proto.js';
import { uniqueName } from '../helpers/services.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';

const ADMIN = 'hostile-admin-token';
const MAX_BODY = 2 * 1024 * 1024;
const HOOP_SECRET = `whsec_${Buffer.alloc(32, 3).toString('base64')}`;
// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [VIGIL_BIN, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/**
 * Announces `length` bytes of body, sends one 64 KiB chunk and waits: the answer, and whether the
 * server closed the connection, without the rest of the upload ever being sent.
 */
function partialUpload(
  url: string,
  headers: Record<string, string>,
  length: number,
): Promise<{ status: number | 'no answer'; closed: boolean }> {
  return new Promise((resolve) => {
    let status: number | 'no answer' = 'no answer';
    let closed = false;
    const req = request(url, { method: 'POST', headers: { ...headers, 'content-length': String(length) } });
    const finish = () => {
      clearTimeout(timer);
      req.destroy();
      resolve({ status, closed });
    };
    const timer = setTimeout(finish, 10_000);
    req.on('response', (res: IncomingMessage) => {
      status = res.statusCode ?? 0;
      res.resume();
      res.on('close', () => {
        closed = req.socket?.destroyed ?? true;
        setTimeout(finish, 200);
      });
    });
    req.on('error', () => {
      closed = true;
      finish();
    });
    req.on('socket', (socket) => socket.on('close', () => (closed = true)));
    req.write(Buffer.alloc(64 * 1024, 0x20));
  });
}

/** Runs `send` while polling the admin /healthz; the slowest /healthz answer, in ms. */
async function healthzDuring<T>(
  adminUrl: string,
  adminToken: string,
  send: () => Promise<T>,
): Promise<{ result: T; slowestMs: number }> {
  let running = true;
  let slowestMs = 0;
  const poll = (async () => {
    while (running) {
      const t0 = performance.now();
      const res = await fetch(`${adminUrl}/healthz`, { headers: { authorization: `Bearer ${adminToken}` } });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      slowestMs = Math.max(slowestMs, performance.now() - t0);
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  try {
    return { result: await send(), slowestMs };
  } finally {
    running = false;
    await poll;
  }
}

function grpcExport(address: string, token: string | undefined, body: Buffer): Promise<number> {
  const client = new Client(address, credentials.createInsecure(), { 'grpc.max_send_message_length': -1 });
  const md = new Metadata();
  if (token !== undefined) md.set('authorization', `Bearer ${token}`);
  return new Promise<number>((resolve) =>
    client.makeUnaryRequest(
      '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
      (b: Buffer) => b,
      (b: Buffer) => b,
      body,
      md,
      (err) => {
        client.close();
        resolve(err ? (err.code ?? -1) : grpcStatus.OK);
      },
    ),
  );
}

/** NDJSON lines of one text up to `bytes`. */
const fillLines = (line: string, bytes: number) =>
  Buffer.from(`${line}\n`.repeat(Math.floor(bytes / (line.length + 1))));

describe('hostile input', () => {
  let v: TestVigil;
  let targets: Array<{ name: string; url: string; token: string; type: string }>;
  beforeAll(async () => {
    v = await startTestVigil({
      env: {
        VIGIL_ADMIN_TOKEN: ADMIN,
        VIGIL_MAX_BODY_BYTES: String(MAX_BODY),
        VIGIL_HOOP_WEBHOOK_SECRET: HOOP_SECRET,
      },
    });
    targets = [
      {
        name: 'generic',
        url: `${v.app.collectorUrl}/v1/events`,
        token: v.app.sourceToken,
        type: 'application/x-ndjson',
      },
      {
        name: 'teleport',
        url: `${v.app.collectorUrl}/v1/teleport/events`,
        token: v.app.sourceTokens.teleport,
        type: 'application/x-ndjson',
      },
      {
        name: 'otlp',
        url: `${v.app.otlpHttpUrl}/v1/traces`,
        token: v.app.sourceTokens.otlp,
        type: 'application/json',
      },
      { name: 'replay', url: `${v.app.adminUrl}/v1/replay`, token: ADMIN, type: 'application/x-ndjson' },
    ];
  });
  afterAll(async () => v?.stop());

  const send = async (
    t: { url: string; token: string; type: string },
    body: Buffer | string,
    encoding?: string,
  ): Promise<{ status: number; text: string }> => {
    try {
      const res = await fetch(t.url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${t.token}`,
          'content-type': t.type,
          ...(encoding ? { 'content-encoding': encoding } : {}),
        },
        body,
      });
      return { status: res.status, text: await res.text() };
    } catch (err) {
      // A server may close the connection on a body it refuses mid-upload: that is a refusal too.
      return { status: 413, text: String((err as Error).cause ?? err) };
    }
  };

  it('refuses bodies over the limit, as sent and after decompression, and stacked encodings', async () => {
    const zeros = Buffer.alloc(64 * 1024 * 1024);
    const gzBomb = gzipSync(zeros, { level: 9 });
    const deflateBomb = deflateSync(zeros, { level: 9 });
    expect(gzBomb.length).toBeLessThan(MAX_BODY); // small on the wire
    for (const t of targets) {
      expect((await send(t, Buffer.alloc(MAX_BODY + 1, 0x61))).status, t.name).toBe(413);
      expect((await send(t, gzBomb, 'gzip')).status, `${t.name} gzip bomb`).toBe(413);
      expect((await send(t, deflateBomb, 'deflate')).status, `${t.name} deflate bomb`).toBe(413);
      // gzip inside gzip is decoded once: what is left is not JSON.
      const twice = gzipSync(gzipSync(JSON.stringify(makeGenericEvent())));
      expect((await send(t, twice, 'gzip')).status, `${t.name} double gzip`).toBe(400);
      expect((await send(t, 'x', 'br')).status, `${t.name} br`).toBe(415);
      expect(
        (await send(t, Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0]), 'gzip')).status,
        `${t.name} truncated gzip`,
      ).toBe(400);
    }
  });

  it('answers deep nesting and giant arrays with 4xx, never 5xx', async () => {
    const depth = 100_000;
    const bodies = [
      `${'['.repeat(depth)}${']'.repeat(depth)}`,
      `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
      JSON.stringify({
        ...makeGenericEvent(),
        attributes: JSON.parse(`${'{"a":'.repeat(2_000)}1${'}'.repeat(2_000)}`),
      }),
      `[${'0,'.repeat(300_000)}0]`,
      // OTLP JSON: an AnyValue kvlist nested thousands deep.
      `{"resourceSpans":[{"resource":{"attributes":[{"key":"k","value":${'{"kvlistValue":{"values":[{"key":"x","value":'.repeat(3_000)}{}${'}]}}'.repeat(3_000)}}]}}]}`,
    ];
    for (const t of targets) {
      for (const body of bodies) {
        const r = await send(t, body);
        expect(r.status, `${t.name}: ${r.text.slice(0, 200)}`).toBeLessThan(500);
        // OTLP/JSON ignores unknown fields (protobuf JSON mapping): an empty export is a 200; the
        // admin replay reports its rejected lines in a 200. Nothing is accepted either way.
        if (r.status === 200)
          expect(t.name === 'otlp' || JSON.parse(r.text).accepted === 0, r.text).toBe(true);
        else expect(r.status, `${t.name}: ${r.text.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
      }
    }
  });

  it('answers [[[…]]] 100,000 deep as JSON with 400 and a reason naming the depth (generic, Teleport)', async () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    for (const t of targets.filter((x) => x.name === 'generic' || x.name === 'teleport')) {
      for (const type of ['application/json', 'application/x-ndjson']) {
        const r = await send({ ...t, type }, deep);
        expect(r.status, `${t.name} ${type}: ${r.text.slice(0, 200)}`).toBe(400);
        expect(JSON.parse(r.text).rejected).toEqual([{ line: 1, reason: TOO_DEEP_REASON }]);
      }
    }
  });

  it('refuses a body of more items than a request may hold (413, with the reason), on every route', async () => {
    const over = DEFAULT_MAX_ITEMS + 1;
    const lines = Buffer.from('{}\n'.repeat(over));
    const array = Buffer.from(`[${'{},'.repeat(over - 1)}{}]`);
    for (const t of targets.filter((x) => x.name !== 'otlp')) {
      // The admin replay reads NDJSON whatever the content type says.
      for (const [type, body] of [
        ['application/x-ndjson', lines],
        ...(t.name === 'replay' ? [] : [['application/json', array] as const]),
      ] as const) {
        const r = await send({ ...t, type }, gzipSync(body), 'gzip');
        expect(r.status, `${t.name} ${type}`).toBe(413);
        expect(r.text).toMatch(new RegExp(`more than ${DEFAULT_MAX_ITEMS} items`));
      }
    }
    const spans = encodeTraceRequest([{ spans: Array.from({ length: over }, () => ({})) }]);
    const otlp = await fetch(`${v.app.otlpHttpUrl}/v1/traces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${v.app.sourceTokens.otlp}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceSpans: [{ scopeSpans: [{ spans: Array.from({ length: over }, () => ({})) }] }],
      }),
    });
    expect(otlp.status).toBe(413);
    expect(await otlp.text()).toMatch(/more than \d+ spans/);
    expect(await grpcExport(v.app.otlpGrpcAddress!, v.app.sourceTokens.otlp, Buffer.from(spans))).toBe(
      grpcStatus.RESOURCE_EXHAUSTED,
    );
  });

  it('lists the first 100 rejections and counts the rest: the answer to 10,000 invalid items is small', async () => {
    for (const type of ['application/x-ndjson', 'application/json']) {
      const body = type === 'application/json' ? `[${'{},'.repeat(9_999)}{}]` : '{}\n'.repeat(10_000);
      const res = await fetch(`${v.app.collectorUrl}/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${v.app.sourceToken}`, 'content-type': type },
        body,
      });
      const text = await res.text();
      expect(res.status).toBe(400);
      const answer = JSON.parse(text) as { rejected: unknown[]; rejected_count: number };
      expect(answer.rejected).toHaveLength(100);
      expect(answer.rejected_count).toBe(10_000);
      expect(text.length).toBeLessThan(16 * 1024);
    }
  });

  it('refuses a caller without credentials before reading its body, and closes the connection', async () => {
    const length = MAX_BODY - 1;
    const cases: Array<[string, string, Record<string, string>]> = [
      ['generic', `${v.app.collectorUrl}/v1/events`, { authorization: 'Bearer wrong' }],
      ['teleport', `${v.app.collectorUrl}/v1/teleport/events`, {}],
      ['otlp', `${v.app.otlpHttpUrl}/v1/traces`, { 'content-type': 'application/x-protobuf' }],
      ['hoop (no signature headers)', `${v.app.collectorUrl}/v1/hoop/webhooks`, {}],
      [
        'hoop (stale timestamp)',
        `${v.app.collectorUrl}/v1/hoop/webhooks`,
        { 'webhook-id': 'msg_x', 'webhook-timestamp': '1000000000', 'webhook-signature': 'v1,AAAA' },
      ],
      ['unknown route', `${v.app.collectorUrl}/v1/nope`, {}],
      ['admin replay', `${v.app.adminUrl}/v1/replay`, { authorization: 'Bearer wrong' }],
      ['ClickHouse HTTP', `${v.app.adminUrl}/clickhouse/`, { 'x-clickhouse-key': 'wrong' }],
    ];
    for (const [name, url, headers] of cases) {
      // Only 64 KiB of the announced ~2 MiB are ever sent: an answer means the body was not awaited.
      const r = await partialUpload(url, { 'content-type': 'application/json', ...headers }, length);
      expect([401, 403], name).toContain(r.status);
      expect(r.closed, `${name}: connection left open`).toBe(true);
    }
  });

  it('keeps /healthz answering while a request of the largest hostile body is processed (1 s is the bound of the bench)', async () => {
    const missingUser = '{"time":1,"tenant":"t","system":"s","operation":"o"}';
    const teleportLine = '{"event":"db.session.query","uid":"u","time":1}';
    const dbSpans = Array.from({ length: 28_000 }, () => ({
      name: 'SELECT docs',
      attrs: [
        ['db.system', 'postgresql'],
        ['db.statement', 'SELECT 1'],
      ] as Array<[string, string]>,
    }));
    const otlpProto = Buffer.from(
      encodeTraceRequest([{ attrs: [['vigil.tenant', 'hostile']], spans: dbSpans }]),
    );
    expect(otlpProto.length).toBeLessThan(MAX_BODY);
    const hoopBody = JSON.stringify({ ...makeHoopSessionOpen(), input: 'A'.repeat(MAX_BODY - 4096) });
    const post = (url: string, headers: Record<string, string>, body: Buffer | string) => async () => {
      const res = await fetch(url, { method: 'POST', headers, body });
      await res.arrayBuffer();
      return res.status;
    };
    const bearer = (token: string, type: string) => ({
      authorization: `Bearer ${token}`,
      'content-type': type,
    });
    const cases: Array<[string, () => Promise<number>, number]> = [
      [
        'NDJSON: invalid objects filling the body',
        post(
          `${v.app.collectorUrl}/v1/events`,
          bearer(v.app.sourceToken, 'application/x-ndjson'),
          fillLines(missingUser, MAX_BODY),
        ),
        400,
      ],
      [
        `JSON array: ${DEFAULT_MAX_ITEMS} items`,
        post(
          `${v.app.collectorUrl}/v1/events`,
          bearer(v.app.sourceToken, 'application/json'),
          `[${'[],'.repeat(DEFAULT_MAX_ITEMS - 1)}[]]`,
        ),
        400,
      ],
      [
        'Teleport: database events without a user filling the body',
        post(
          `${v.app.collectorUrl}/v1/teleport/events`,
          bearer(v.app.sourceTokens.teleport, 'application/x-ndjson'),
          fillLines(teleportLine, MAX_BODY),
        ),
        400,
      ],
      [
        'OTLP/HTTP: 28,000 database spans',
        post(
          `${v.app.otlpHttpUrl}/v1/traces`,
          bearer(v.app.sourceTokens.otlp, 'application/x-protobuf'),
          otlpProto,
        ),
        200,
      ],
      [
        'OTLP/gRPC: 28,000 database spans',
        () => grpcExport(v.app.otlpGrpcAddress!, v.app.sourceTokens.otlp, otlpProto),
        0,
      ],
      [
        'hoop.dev: a signed body of the largest size',
        post(
          `${v.app.collectorUrl}/v1/hoop/webhooks`,
          { 'content-type': 'application/json', ...signHoopWebhook(HOOP_SECRET, hoopBody) },
          hoopBody,
        ),
        400,
      ],
      [
        'admin replay: invalid objects filling the body',
        post(
          `${v.app.adminUrl}/v1/replay`,
          bearer(ADMIN, 'application/x-ndjson'),
          fillLines(missingUser, MAX_BODY),
        ),
        200,
      ],
    ];
    for (const [name, sendIt, expected] of cases) {
      const { result, slowestMs } = await healthzDuring(v.app.adminUrl, ADMIN, sendIt);
      console.log(`/healthz during ${name}: slowest ${Math.round(slowestMs)} ms (answer ${result})`);
      expect(result, name).toBe(expected);
      // The 1 s bound is the benchmark's target (hostile_worst_healthz_ms, npm run bench --only
      // hostile), measured alone. Here the suite shares two cores with other test files (3.6 s was
      // seen beside the benchmark's own run), so this catches a blocked event loop — the fault was
      // 42–106 s — with room for a loaded machine.
      expect(slowestMs, name).toBeLessThan(5_000);
    }
  }, 120_000);

  it('keeps the memory of a vigil process bounded through bursts of bombs and large bodies', async () => {
    // Its own process, so the measure is vigil's and not the sender's buffers.
    const server = await startServeChild({
      env: { VIGIL_MAX_BODY_BYTES: String(MAX_BODY) },
      roles: 'collector,store',
    });
    try {
      const t = {
        url: `${server.collectorUrl}/v1/events`,
        token: server.sourceToken,
        type: 'application/x-ndjson',
      };
      const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
      const deflated = deflateSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
      const oversize = Buffer.alloc(MAX_BODY * 2, 0x7b);
      const junk = randomBytes(MAX_BODY - 1024);
      const big = Buffer.from(
        Array.from({ length: 2_000 }, () =>
          JSON.stringify(makeGenericEvent({ collection: 'c'.repeat(200) })),
        ).join('\n'),
      );
      expect(big.length).toBeLessThan(MAX_BODY);
      const burst = async () => {
        const jobs: Array<() => Promise<unknown>> = [];
        for (let i = 0; i < 120; i++) jobs.push(() => send(t, bomb, 'gzip'));
        for (let i = 0; i < 40; i++) jobs.push(() => send(t, deflated, 'deflate'));
        for (let i = 0; i < 40; i++) jobs.push(() => send(t, oversize));
        for (let i = 0; i < 40; i++) jobs.push(() => send(t, junk));
        for (let i = 0; i < 8; i++) jobs.push(() => send(t, big));
        // 16 at a time, as a misbehaving client pool would.
        for (let i = 0; i < jobs.length; i += 16) await Promise.all(jobs.slice(i, i + 16).map((j) => j()));
        return jobs.length;
      };
      // A first burst warms V8's heap and the engine's caches up once; growth is measured after.
      const initial = server.rss();
      await burst();
      const warm = server.rss();
      const before = warm;
      let peak = before;
      const sampler = setInterval(() => {
        peak = Math.max(peak, server.rss());
      }, 50);
      let requests = 0;
      const peaks: number[] = [];
      try {
        for (let round = 0; round < 3; round++) {
          requests += await burst();
          peaks.push(peak);
        }
      } finally {
        clearInterval(sampler);
      }
      const after = server.rss();
      const mb = (n: number) => Math.round(n / 1024 / 1024);
      console.log(
        `hostile bursts (${requests} requests after a warm-up): vigil rss ${mb(initial)} → warm ${mb(warm)} → peaks ${peaks.map(mb).join('/')} → ${mb(after)} MB`,
      );
      expect(peak - before).toBeLessThan(200 * 1024 * 1024);
      expect(after - before).toBeLessThan(200 * 1024 * 1024);
      expect(await server.admin<{ status: string }>('/healthz')).toEqual({ status: 'ok' });
    } finally {
      await server.child.kill('SIGTERM');
    }
  }, 90_000);

  it('rejects wrong types with a reason naming the field, and keeps the valid events beside them', async () => {
    const fields = [
      'time',
      'tenant',
      'user',
      'system',
      'operation',
      'top_k',
      'returned',
      'bytes_out',
      'latency_ms',
      'masked',
      'attributes',
      'status_code',
      'outcome',
      'actor_type',
    ];
    const wrong = fc.oneof(
      fc.constant(null),
      fc.constant({}),
      fc.constant([]),
      fc.constant(-1),
      fc.constant(1.5),
      fc.constant(1e308),
      fc.constant('NaN'),
      fc.constant(true),
      fc.string({ maxLength: 5 }),
      fc.array(fc.string(), { maxLength: 3 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...fields), wrong, async (field, value) => {
        const tenant = uniqueName('types');
        const bad = { ...makeGenericEvent({ tenant }), [field]: value };
        const good = makeGenericEvent({ tenant });
        const r = await send(targets[0]!, `${JSON.stringify(bad)}\n${JSON.stringify(good)}`);
        expect(r.status, r.text).toBe(200);
        const body = JSON.parse(r.text) as {
          accepted: number;
          rejected: Array<{ line: number; reason: string }>;
        };
        // Either the value was acceptable for the field (accepted: 2) or line 1 says why not.
        if (body.accepted === 1) {
          expect(body.rejected).toHaveLength(1);
          expect(body.rejected[0]!.line).toBe(1);
          expect(body.rejected[0]!.reason.length).toBeGreaterThan(3);
        } else expect(body.accepted).toBe(2);
      }),
      { numRuns: 60 },
    );
  });

  it('stores a value with a lone surrogate (as U+FFFD) instead of stalling the writer', async () => {
    const tenant = uniqueName('surrogate');
    const r = await v.post([makeGenericEvent({ tenant, collection: 'docs\ud800x', client: '\udfffagent' })]);
    expect(r.status).toBe(200);
    const [row] = await v.app.store.client.query<{ collection: string; client: string }>(
      'SELECT collection, client FROM events WHERE tenant = {t:String}',
      { t: tenant },
    );
    expect(row).toEqual({ collection: 'docs\ufffdx', client: '\ufffdagent' });
  });

  it('refuses forged and re-used webhook signatures; a replay is acknowledged once, stored once', async () => {
    const hoop = (body: string, headers: Record<string, string>) =>
      fetch(`${v.app.collectorUrl}/v1/hoop/webhooks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
    const body = JSON.stringify(makeHoopSessionOpen());
    const other = JSON.stringify(makeHoopSessionOpen());
    const headers = signHoopWebhook(HOOP_SECRET, body);
    // A valid signature moved onto another body, or under another message id.
    expect((await hoop(other, headers)).status).toBe(401);
    const idKey = Object.keys(headers).find((k) => k.endsWith('-id'))!;
    expect((await hoop(body, { ...headers, [idKey]: `${headers[idKey]}-2` })).status).toBe(401);
    // Many candidate signatures, none valid; a signature of another scheme version.
    const sigKey = Object.keys(headers).find((k) => k.endsWith('-signature'))!;
    const many = Array.from({ length: 2_000 }, () => `v1,${randomBytes(32).toString('base64')}`).join(' ');
    // (Node refuses a header block that large before vigil sees it: 431.)
    expect([401, 431]).toContain((await hoop(body, { ...headers, [sigKey]: many })).status);
    const some = many.slice(0, 8_000);
    expect((await hoop(body, { ...headers, [sigKey]: some })).status).toBe(401);
    expect(
      (await hoop(body, { ...headers, [sigKey]: headers[sigKey]!.replace(/^v1,/, 'v1a,') })).status,
    ).toBe(401);
    // Random signature headers: 401, never 5xx.
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 300 }), fc.string({ maxLength: 20 }), async (sig, ts) => {
        const s = (
          await hoop(body, {
            ...headers,
            [sigKey]: sig.replace(/[\r\n]/g, ''),
            'webhook-timestamp': ts.replace(/[\r\n]/g, ''),
          })
        ).status;
        expect([400, 401]).toContain(s);
      }),
      { numRuns: 50 },
    );
    // The genuine delivery, then its replay.
    const first = await hoop(body, headers);
    expect(first.status).toBe(200);
    const again = await hoop(body, headers);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ accepted: 0, duplicate: true });
    // A signature made with the right secret for a timestamp in the future beyond tolerance.
    const future = new Webhook(HOOP_SECRET).sign('msg_future', new Date(Date.now() + 3_600_000), body);
    expect(
      (
        await hoop(body, {
          'webhook-id': 'msg_future',
          'webhook-timestamp': String(Math.floor(Date.now() / 1000) + 3_600),
          'webhook-signature': future,
        })
      ).status,
    ).toBe(401);
  });

  it('stores SQL-looking values as data (tokenized where they are identities), never executes them', async () => {
    const tenant = uniqueName('sql');
    const payloads = [
      "docs'); DROP TABLE events; --",
      '`; SELECT * FROM system.users; --',
      "x' OR '1'='1",
      '{t:String}',
      '1; ALTER TABLE audit_chain DELETE WHERE 1 SETTINGS mutations_sync=2',
    ];
    const events = payloads.map((p) =>
      makeGenericEvent({
        tenant,
        collection: p,
        namespace: p,
        client: p,
        user: `${p}@example.com`,
        session: p,
      }),
    );
    const res = await v.post(events);
    expect(res.status).toBe(200);
    const rows = await v.app.store.client.query<{
      collection: string;
      namespace: string;
      client: string;
      actor: string;
      session: string;
    }>('SELECT collection, namespace, client, actor, session FROM events WHERE tenant = {t:String}', {
      t: tenant,
    });
    expect(rows.map((r) => r.collection).sort()).toEqual([...payloads].sort());
    for (const r of rows) {
      expect(r.actor).toMatch(/^usr_k\d+_[A-Za-z0-9_-]{22}$/);
      expect(payloads).not.toContain(r.session); // the session id is an identity: tokenized
    }
    // The tables the payloads name are still there, and still chained.
    const tables = await v.app.store.client.query<{ name: string }>('SHOW TABLES');
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['events', 'audit_chain']));
    // Query parameters of the admin API are parameters too.
    for (const p of payloads) {
      const qs = encodeURIComponent(p);
      for (const path of [
        `/v1/findings?tenant=${qs}`,
        `/v1/incidents?tenant=${qs}&status=${qs}`,
        `/v1/summary?tenant=${qs}`,
        `/v1/actions?tenant=${qs}&incident=${qs}`,
      ]) {
        const r = await fetch(`${v.app.adminUrl}${path}`, { headers: { authorization: `Bearer ${ADMIN}` } });
        expect(r.status, path).toBe(200);
        const body = (await r.json()) as unknown;
        if (Array.isArray(body)) expect(body, path).toEqual([]);
      }
    }
  });

  it('strips escape sequences from terminal tables, and keeps CEF lines single and unforged', async () => {
    const tenant = uniqueName('ansi');
    const evil = 'ok\u001b[2J\u001b]0;pwned\u0007\r\nfake-row|CEF:0|x|y|1|z|n|10|act=pwned \u202etxt.exe';
    await v.app.writers.findings.write([
      makeFinding({
        tenant,
        title: evil,
        sentence: evil,
        entity: `usr_k1_${'a'.repeat(22)}`,
        collection: evil,
      }),
      makeFinding({ tenant }),
    ]);
    const port = new URL(v.app.adminUrl).port;
    // Asynchronously: the CLI talks to the admin API this very process serves.
    const run = await runCli(['findings', '--format', 'table', '--tenant', tenant], {
      VIGIL_ADMIN_PORT: port,
      VIGIL_ADMIN_TOKEN: ADMIN,
      VIGIL_HOST: '127.0.0.1',
      VIGIL_DATA_DIR: v.dataDir,
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).not.toMatch(CONTROL);
    expect(run.stdout).not.toContain('\u202e');
    // Header, rule, one line per finding: the line break in the value forged no row.
    expect(run.stdout.trimEnd().split('\n')).toHaveLength(4);
    const [hostile, benign] = (await listFindings(v.app.store.client, { tenant })).sort((a) =>
      a.title === evil ? -1 : 1,
    );
    const line = toCef({ kind: 'finding', value: hostile! });
    expect(line).not.toMatch(/[\r\n]/);
    expect(line).not.toMatch(CONTROL);
    const parsed = parseCef(line);
    const reference = parseCef(toCef({ kind: 'finding', value: benign! }));
    expect(parsed.header).toHaveLength(7);
    expect(parsed.header[0]).toBe('CEF:0');
    expect(Object.keys(parsed.ext).sort()).toEqual(Object.keys(reference.ext).sort());
  });

  it('stores arbitrary content so that the audit trail still verifies intact', async () => {
    const anyText = fc.string({
      unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
      maxLength: 40,
    });
    const event = fc.record({
      collection: anyText,
      namespace: anyText,
      client: anyText,
      error_type: anyText,
      latency_ms: fc.double({ min: 0, max: 86_400_000, noNaN: true }),
      bytes_out: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
      top_k: fc.nat({ max: 2 ** 32 - 1 }),
      status_code: fc.integer({ min: -1_000_000, max: 1_000_000 }),
      masked: fc.boolean(),
      attributes: fc.dictionary(
        fc.string({ maxLength: 20 }),
        fc.oneof(anyText, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean()),
        { maxKeys: 4 },
      ),
    });
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(event, { minLength: 1, maxLength: 15 }), async (items) => {
        const r = await v.post(items.map((i) => makeGenericEvent({ ...i, tenant: 'fuzz-chain' })));
        expect(r.status).toBeLessThan(500);
        if (r.status === 200) accepted += ((await r.json()) as { accepted: number }).accepted;
      }),
      { numRuns: 40 },
    );
    expect(accepted).toBeGreaterThan(0);
    const res = await fetch(`${v.app.adminUrl}/v1/verify`, { headers: { authorization: `Bearer ${ADMIN}` } });
    const report = (await res.json()) as VerifyReport;
    expect(report.tables.flatMap((t) => t.problems)).toEqual([]);
    expect(report.intact).toBe(true);
  }, 60_000);
});

describe('refused credentials and slow senders', () => {
  const LIMIT = 5;
  let w: TestVigil;
  beforeAll(async () => {
    w = await startTestVigil({
      roles: ['collector', 'store'],
      env: {
        VIGIL_ADMIN_TOKEN: ADMIN,
        VIGIL_AUTH_FAILURE_LIMIT: String(LIMIT),
        VIGIL_AUTH_FAILURE_WINDOW: '1m',
        VIGIL_REQUEST_TIMEOUT: '2s',
      },
    });
  });
  afterAll(async () => w?.stop());

  it('closes a request whose body does not arrive within VIGIL_REQUEST_TIMEOUT', async () => {
    const t0 = performance.now();
    const r = await partialUpload(
      `${w.app.collectorUrl}/v1/events`,
      { authorization: `Bearer ${w.app.sourceToken}`, 'content-type': 'application/x-ndjson' },
      1_000_000,
    );
    const seconds = (performance.now() - t0) / 1000;
    // Node answers 408 and closes (or closes outright): within the timeout and one check interval.
    expect([408, 'no answer']).toContain(r.status);
    expect(r.closed).toBe(true);
    expect(seconds).toBeGreaterThan(1.5);
    expect(seconds).toBeLessThan(8);
  });

  it('counts and logs refused credentials per route and reason, then throttles the address everywhere', async () => {
    const wrong = `wrong-token-${randomBytes(6).toString('hex')}`;
    const events = (token: string) =>
      fetch(`${w.app.collectorUrl}/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
        body: JSON.stringify(makeGenericEvent()),
      });
    // One refusal over gRPC, the rest over HTTP: one count per address across listeners.
    expect(await grpcExport(w.app.otlpGrpcAddress!, undefined, Buffer.alloc(0))).toBe(
      grpcStatus.UNAUTHENTICATED,
    );
    for (let i = 1; i < LIMIT; i++) expect((await events(wrong)).status).toBe(401);
    const m = w.app.metrics;
    expect(m.counter('auth_refused_otlp_grpc_missing_credential')).toBe(1);
    expect(m.counter('auth_refused_generic_invalid_credential')).toBe(LIMIT - 1);
    expect(m.counter('auth_refused')).toBe(LIMIT);
    // Throttled: refused before its credential is looked at, even a valid one, on every listener.
    const throttled = await events(wrong);
    expect(throttled.status).toBe(429);
    const retryAfter = Number(throttled.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect((await events(w.app.sourceToken)).status).toBe(429);
    const admin = await fetch(`${w.app.adminUrl}/v1/summary`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(admin.status).toBe(429);
    expect(await grpcExport(w.app.otlpGrpcAddress!, w.app.sourceTokens.otlp, Buffer.alloc(0))).toBe(
      grpcStatus.RESOURCE_EXHAUSTED,
    );
    expect(m.counter('auth_refused')).toBe(LIMIT); // throttled tries are not held against it again
    expect(m.counter('auth_throttled_generic')).toBe(2);
    expect(m.counter('auth_throttled_admin')).toBe(1);
    expect(m.counter('auth_throttled_otlp_grpc')).toBe(1);
    // Logged with route and reason, the address as a token; never the credential presented.
    const logFile = process.env.VIGIL_LOG_FILE;
    if (logFile) {
      const log = readFileSync(logFile, 'utf8');
      expect(log).toMatch(
        /"route":"generic","reason":"invalid_credential","source":"[a-z]+_k\d+_[A-Za-z0-9_-]{22}"/,
      );
      expect(log).toContain('source throttled after repeated refused credentials');
      expect(log).not.toContain(wrong);
    }
  });
});
