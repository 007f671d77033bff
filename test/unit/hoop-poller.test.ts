// The hoop.dev sessions poller against a fake fetch: paging, bearer auth, the checkpoint moving
// only after events are durable, sessions still running holding it back, and a clean stop.
import { describe, expect, it } from 'vitest';
import type { Ingest } from '../../src/collectors/ingest.js';
import { createHoopPoller } from '../../src/collectors/hoop/poller.js';
import { type AccessEvent, BackpressureError } from '../../src/model/index.js';
import { createTokenizer } from '../../src/privacy/index.js';
import { createLogger, createMetrics } from '../../src/telemetry/index.js';
import { makeHoopApiSession } from '../helpers/gateway-fixtures.js';

const NOW = Date.UTC(2026, 10, 2, 12, 0, 0);
const at = (minutesAgo: number) => new Date(NOW - minutesAgo * 60_000).toISOString();

function fakeIngest(fail?: () => boolean): Ingest & { events: AccessEvent[] } {
  const events: AccessEvent[] = [];
  return {
    events,
    inflight: () => 0,
    async submit(batch) {
      if (fail?.()) throw new BackpressureError('full', 1, 'saturated');
      events.push(...batch);
    },
  };
}

function api(sessions: Array<Record<string, unknown>>, opts: { status?: number } = {}) {
  const requests: Array<{ url: URL; auth: string | null }> = [];
  const fetchFn = (async (input: URL | string, init?: RequestInit) => {
    const url = new URL(String(input));
    requests.push({ url, auth: new Headers(init?.headers).get('authorization') });
    if (opts.status) return new Response('{"message":"nope"}', { status: opts.status });
    const since = Date.parse(url.searchParams.get('start_date')!);
    const limit = Number(url.searchParams.get('limit'));
    const offset = Number(url.searchParams.get('offset'));
    const matching = sessions.filter((s) => Date.parse(s.start_date as string) >= since);
    const page = matching.slice(offset, offset + limit);
    return Response.json({
      data: page,
      total: matching.length,
      has_next_page: offset + limit < matching.length,
    });
  }) as typeof fetch;
  return { fetchFn, requests };
}

function poller(fetchFn: typeof fetch, ingest: Ingest, over: { pageSize?: number } = {}) {
  return createHoopPoller({
    apiUrl: 'https://hoop.example.net/',
    apiToken: 'xapi-test-token',
    intervalMs: 60_000,
    tenant: 'acme',
    pageSize: over.pageSize,
    deps: {
      ingest,
      tokenizer: createTokenizer({ version: 1, secret: Buffer.alloc(32, 3) }),
      metrics: createMetrics(),
      logger: createLogger('silent'),
      now: () => NOW,
      fetch: fetchFn,
    },
  });
}

describe('hoop.dev sessions poller', () => {
  it('pages through /api/sessions with the bearer token and advances the checkpoint', async () => {
    const sessions = Array.from({ length: 7 }, (_, i) => makeHoopApiSession({ start_date: at(50 - i) }));
    const { fetchFn, requests } = api(sessions);
    const ingest = fakeIngest();
    const p = poller(fetchFn, ingest, { pageSize: 3 });
    expect(await p.pollOnce()).toEqual({ sessions: 7, accepted: 7, rejected: 0 });
    expect(requests.map((r) => r.url.searchParams.get('offset'))).toEqual(['0', '3', '6']);
    expect(requests[0]!.url.pathname).toBe('/api/sessions');
    expect(requests[0]!.url.searchParams.get('start_date')).toBe(at(60));
    expect(requests.every((r) => r.auth === 'Bearer xapi-test-token')).toBe(true);
    expect(new Set(ingest.events.map((e) => e.event_id)).size).toBe(7);
    expect(p.checkpoint()).toBe(at(44));
    // The next poll asks from the checkpoint; the boundary session comes again (same event id).
    await p.pollOnce();
    expect(requests.at(-1)!.url.searchParams.get('start_date')).toBe(at(44));
    expect(new Set(ingest.events.map((e) => e.event_id)).size).toBe(7);
  });

  it('keeps the checkpoint at a session still running so its outcome is picked up later', async () => {
    const sessions = [
      makeHoopApiSession({ start_date: at(30), status: 'open', end_date: null }),
      makeHoopApiSession({ start_date: at(10) }),
    ];
    const p = poller(api(sessions).fetchFn, fakeIngest());
    await p.pollOnce();
    expect(p.checkpoint()).toBe(at(30));
  });

  it('does not move the checkpoint when the events could not be made durable', async () => {
    const sessions = [makeHoopApiSession({ start_date: at(5) })];
    let failing = true;
    const ingest = fakeIngest(() => failing);
    const p = poller(api(sessions).fetchFn, ingest);
    await expect(p.pollOnce()).rejects.toThrow('full');
    expect(p.checkpoint()).toBeUndefined();
    failing = false;
    await p.pollOnce();
    expect(ingest.events).toHaveLength(1);
    expect(p.checkpoint()).toBe(at(5));
  });

  it('reports an API error without moving the checkpoint', async () => {
    const p = poller(api([], { status: 401 }).fetchFn, fakeIngest());
    await expect(p.pollOnce()).rejects.toThrow('hoop sessions API answered 401');
    expect(p.checkpoint()).toBeUndefined();
  });

  it('skips sessions it cannot read and keeps the others', async () => {
    const sessions = [
      makeHoopApiSession({ start_date: at(3) }),
      { ...makeHoopApiSession({ start_date: at(2) }), id: '' },
    ];
    const ingest = fakeIngest();
    expect(await poller(api(sessions).fetchFn, ingest).pollOnce()).toMatchObject({
      accepted: 1,
      rejected: 1,
    });
  });

  it('start() polls at once; stop() ends it', async () => {
    const { fetchFn, requests } = api([makeHoopApiSession({ start_date: at(1) })]);
    const ingest = fakeIngest();
    const p = poller(fetchFn, ingest);
    p.start();
    await expect.poll(() => ingest.events.length).toBe(1);
    await p.stop();
    const n = requests.length;
    p.start();
    expect(requests.length).toBe(n);
  });
});
