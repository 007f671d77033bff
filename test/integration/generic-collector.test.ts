// POST /v1/events over real HTTP: authentication, partial batches, size limits, backpressure.
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summary } from '../../src/store/index.js';
import { makeGenericEvent } from '../helpers/factories.js';
import { uniqueName } from '../helpers/services.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';

describe('generic gateway collector', () => {
  let v: TestVigil;
  beforeAll(async () => {
    v = await startTestVigil({
      env: { VIGIL_MAX_BODY_BYTES: String(256 * 1024), VIGIL_ADMIN_TOKEN: 'admin-secret-token-for-tests' },
    });
  });
  afterAll(async () => v?.stop());

  const post = (body: string | Buffer, headers: Record<string, string> = {}) =>
    fetch(`${v.app.collectorUrl}/v1/events`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${v.app.sourceToken}`,
        'content-type': 'application/x-ndjson',
        ...headers,
      },
      body,
    });

  it('answers 401 without credentials and 403 with a credential of another source', async () => {
    const line = JSON.stringify(makeGenericEvent());
    expect((await post(line, { authorization: '' })).status).toBe(401);
    expect((await post(line, { authorization: 'Bearer not-a-token' })).status).toBe(401);
    const res = await post(line, { authorization: 'Bearer admin-secret-token-for-tests' });
    expect(res.status).toBe(403);
  });

  it('keeps the valid lines of a partly bad batch and names each bad line and field', async () => {
    const tenant = uniqueName('partial');
    const lines = [
      JSON.stringify(makeGenericEvent({ tenant })),
      '{not json',
      JSON.stringify({ ...makeGenericEvent({ tenant }), operation: undefined }),
      '',
      JSON.stringify(makeGenericEvent({ tenant, user: 'bob@example.com' })),
      JSON.stringify({ ...makeGenericEvent({ tenant }), actor_type: 'carol@example.com' }),
    ];
    const res = await post(lines.join('\n'));
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      accepted: number;
      rejected: Array<{ line: number; reason: string }>;
    };
    expect(body.accepted).toBe(2);
    expect(body.rejected.map((r) => r.line)).toEqual([2, 3, 6]);
    expect(body.rejected[0]!.reason).toBe('invalid JSON');
    expect(body.rejected[1]!.reason).toContain('operation');
    expect(body.rejected[2]!.reason).toContain('actor_type');
    expect(JSON.stringify(body)).not.toContain('carol@example.com');
    expect((await summary(v.app.store.client, tenant)).distinct_events).toBe(2);
  });

  it('answers 400 with reasons when nothing in the batch is valid', async () => {
    const res = await post('{"tenant":"x"}\n');
    expect(res.status).toBe(400);
    const body = (await res.json()) as {
      accepted: number;
      rejected: Array<{ line: number; reason: string }>;
    };
    expect(body.accepted).toBe(0);
    expect(body.rejected[0]!.line).toBe(1);
  });

  it('accepts a gzip body and a JSON array', async () => {
    const tenant = uniqueName('formats');
    const gz = await post(
      gzipSync(
        [makeGenericEvent({ tenant }), makeGenericEvent({ tenant })].map((e) => JSON.stringify(e)).join('\n'),
      ),
      {
        'content-encoding': 'gzip',
      },
    );
    expect(gz.status).toBe(200);
    const arr = await post(JSON.stringify([makeGenericEvent({ tenant })]), {
      'content-type': 'application/json',
    });
    expect(arr.status).toBe(200);
    expect((await summary(v.app.store.client, tenant)).distinct_events).toBe(3);
  });

  it('answers 413 over the size limit, before and after decompression', async () => {
    const big = 'x'.repeat(300 * 1024);
    expect((await post(big)).status).toBe(413);
    const bomb = gzipSync(Buffer.alloc(20 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(256 * 1024);
    expect((await post(bomb, { 'content-encoding': 'gzip' })).status).toBe(413);
  });

  it('deduplicates a resent batch by event id', async () => {
    const tenant = uniqueName('resend');
    const lines = Array.from({ length: 50 }, () => JSON.stringify(makeGenericEvent({ tenant }))).join('\n');
    expect((await post(lines)).status).toBe(200);
    expect((await post(lines)).status).toBe(200);
    expect((await summary(v.app.store.client, tenant)).distinct_events).toBe(50);
  });
});

describe('generic collector under backpressure', () => {
  let v: TestVigil;
  beforeAll(async () => {
    // A tiny in-flight budget: the second concurrent request finds the pipeline saturated.
    v = await startTestVigil({ env: { VIGIL_MAX_INFLIGHT_EVENTS: '10' } });
  });
  afterAll(async () => v?.stop());

  it('answers 429 with Retry-After when the pipeline is saturated', async () => {
    const tenant = uniqueName('bp');
    const batch = Array.from({ length: 10 }, () => makeGenericEvent({ tenant }));
    const answers = await Promise.all(Array.from({ length: 6 }, () => v.post(batch)));
    const statuses = answers.map((r) => r.status);
    expect(statuses).toContain(200);
    expect(statuses).toContain(429);
    const limited = answers.find((r) => r.status === 429)!;
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    const accepted = statuses.filter((s) => s === 200).length;
    // Exactly the acknowledged batches are stored.
    expect((await summary(v.app.store.client, tenant)).distinct_events).toBe(accepted * 10);
  });
});
