// Property tests over real HTTP: random and mutated bodies at every endpoint. The service stays
// up, answers 4xx with a reason (never 5xx), and keeps every valid item of a mixed batch.
import { gzipSync } from 'node:zlib';
import { Client, credentials, Metadata, status } from '@grpc/grpc-js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summary } from '../../src/store/index.js';
import { makeGenericEvent } from '../helpers/factories.js';
import { uniqueName } from '../helpers/services.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';

const ADMIN = 'fuzz-admin-token';
const HOOP_SECRET = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;

/** Every HTTP endpoint a client can reach, with the credential it needs. */
function endpoints(v: TestVigil): Array<{ name: string; url: string; token: string }> {
  const list = [
    { name: 'generic', url: `${v.app.collectorUrl}/v1/events`, token: v.app.sourceToken },
    { name: 'admin replay', url: `${v.app.adminUrl}/v1/replay`, token: ADMIN },
    { name: 'admin reidentify', url: `${v.app.adminUrl}/v1/reidentify`, token: ADMIN },
    { name: 'admin feedback', url: `${v.app.adminUrl}/v1/findings/f-1/feedback`, token: ADMIN },
    { name: 'admin key rotation', url: `${v.app.adminUrl}/v1/keys/rotate`, token: 'not-a-token' },
  ];
  if (v.app.otlpHttpUrl)
    list.push({ name: 'otlp', url: `${v.app.otlpHttpUrl}/v1/traces`, token: v.app.sourceTokens.otlp });
  list.push({
    name: 'teleport',
    url: `${v.app.collectorUrl}/v1/teleport/events`,
    token: v.app.sourceTokens.teleport,
  });
  list.push({ name: 'hoop', url: `${v.app.collectorUrl}/v1/hoop/webhooks`, token: '' });
  return list;
}

const contentTypes = fc.constantFrom(
  'application/x-ndjson',
  'application/json',
  'application/x-protobuf',
  'text/plain',
  '',
);
const bodies = fc.oneof(
  fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)),
  fc.json().map((j) => Buffer.from(j)),
  fc
    .array(fc.jsonValue(), { maxLength: 20 })
    .map((xs) => Buffer.from(xs.map((x) => JSON.stringify(x)).join('\n'))),
  fc.string({ unit: 'binary', maxLength: 2048 }).map((s) => Buffer.from(s)),
  fc.constant(Buffer.from('{"a":'.repeat(5_000))), // deep nesting
  fc.constant(Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0x0a])), // invalid UTF-8
);

describe('hostile bodies at every endpoint', () => {
  let v: TestVigil;
  beforeAll(async () => {
    v = await startTestVigil({
      env: {
        VIGIL_ADMIN_TOKEN: ADMIN,
        VIGIL_MAX_BODY_BYTES: String(256 * 1024),
        VIGIL_HOOP_WEBHOOK_SECRET: HOOP_SECRET,
      },
    });
  });
  afterAll(async () => v?.stop());

  it('answers 4xx with a reason, never 5xx, and stays up', async () => {
    const targets = endpoints(v);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...targets),
        bodies,
        contentTypes,
        fc.boolean(),
        async (target, body, type, gzip) => {
          const res = await fetch(target.url, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${target.token}`,
              ...(type ? { 'content-type': type } : {}),
              ...(gzip ? { 'content-encoding': 'gzip' } : {}),
            },
            body: gzip ? gzipSync(body) : body,
          });
          const text = await res.text();
          expect(res.status, `${target.name} answered ${res.status}: ${text.slice(0, 200)}`).toBeLessThan(
            500,
          );
          if (res.status >= 400) expect(text.length, `${target.name} gave no reason`).toBeGreaterThan(0);
        },
      ),
      { numRuns: 150 },
    );
    const health = await fetch(`${v.app.adminUrl}/healthz`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(health.status).toBe(200);
  }, 120_000);

  it('answers random gRPC Export bodies with a status, never a crash', async () => {
    const client = new Client(v.app.otlpGrpcAddress!, credentials.createInsecure());
    const call = (body: Buffer, token: string) =>
      new Promise<number>((resolve) => {
        const md = new Metadata();
        md.set('authorization', `Bearer ${token}`);
        client.makeUnaryRequest(
          '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
          (b: Buffer) => b,
          (b: Buffer) => b,
          body,
          md,
          (err) => resolve(err ? (err.code ?? -1) : 0),
        );
      });
    try {
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), fc.boolean(), async (bytes, authed) => {
          const code = await call(Buffer.from(bytes), authed ? v.app.sourceTokens.otlp : 'wrong');
          // OK (decodable, maybe empty), INVALID_ARGUMENT, UNAUTHENTICATED: never INTERNAL/UNKNOWN.
          expect([status.OK, status.INVALID_ARGUMENT, status.UNAUTHENTICATED]).toContain(code);
          if (!authed) expect(code).toBe(status.UNAUTHENTICATED);
        }),
        { numRuns: 100 },
      );
    } finally {
      client.close();
    }
  }, 120_000);

  it('keeps every valid event of a batch mixed with random lines', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.boolean(), { minLength: 1, maxLength: 30 }),
        fc.array(
          fc.oneof(
            fc.jsonValue().map((j) => JSON.stringify(j)),
            fc.string({ maxLength: 200 }),
          ),
          { maxLength: 30 },
        ),
        async (validMask, garbage) => {
          const tenant = uniqueName('mixed');
          const valid = validMask.filter(Boolean).map(() => JSON.stringify(makeGenericEvent({ tenant })));
          const lines = [...valid, ...garbage.map((g) => g.replace(/\n/g, ' '))].sort(
            () => Math.random() - 0.5,
          );
          const answer = await fetch(`${v.app.collectorUrl}/v1/events`, {
            method: 'POST',
            headers: { authorization: `Bearer ${v.app.sourceToken}`, 'content-type': 'application/x-ndjson' },
            body: lines.join('\n'),
          });
          const body = (await answer.json()) as { accepted: number };
          expect(body.accepted).toBe(valid.length);
          if (valid.length)
            expect((await summary(v.app.store.client, tenant)).distinct_events).toBe(valid.length);
        },
      ),
      { numRuns: 25 },
    );
  }, 120_000);
});
