// The hoop.dev sessions poller against a fake of the API as hoophq/hoop@e939597 serves it
// (gateway/api/session/session.go List/Get, list_options.go, models/session.go): newest first,
// `created_at BETWEEN start_date AND end_date` read to the second, offset limit (422 beyond),
// `script` and `ai_analysis` blank in the list and present in `GET /api/sessions/{id}`, legacy
// `xapi-` keys only in `Api-Key`. Checked: every session is read once its window is done, none is
// skipped silently, the checkpoint moves only after events are durable, pending reviews resolve.
import { describe, expect, it } from 'vitest';
import type { Ingest } from '../../../src/collectors/ingest.js';
import { createHoopPoller, hoopAuthHeaders } from '../../../src/collectors/hoop/poller.js';
import { type AccessEvent, BackpressureError } from '../../../src/model/index.js';
import { createTokenizer } from '../../../src/privacy/index.js';
import { createLogger, createMetrics } from '../../../src/telemetry/index.js';
import { hoopListItem, makeHoopApiSession } from '../../helpers/gateway-fixtures.js';

// A clock the test owns: relative to now, whole seconds.
const NOW = Math.floor(Date.now() / 1000) * 1000;
const at = (secondsAgo: number) => new Date(NOW - secondsAgo * 1000).toISOString();
const secondOf = (iso: string) => Math.floor(Date.parse(iso) / 1000) * 1000;

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

interface Req {
  url: URL;
  auth: string | null;
  apiKey: string | null;
}

function api(sessions: Array<Record<string, unknown>>, opts: { status?: number; maxOffset?: number } = {}) {
  const requests: Req[] = [];
  const maxOffset = opts.maxOffset ?? 10_000;
  const fetchFn = (async (input: URL | string, init?: RequestInit) => {
    const url = new URL(String(input));
    const h = new Headers(init?.headers);
    requests.push({ url, auth: h.get('authorization'), apiKey: h.get('api-key') });
    if (opts.status) return new Response('{"message":"nope"}', { status: opts.status });
    const detail = /^\/api\/sessions\/([^/]+)$/.exec(url.pathname);
    if (detail) {
      const s = sessions.find((x) => x.id === decodeURIComponent(detail[1]!));
      return s ? Response.json(s) : Response.json({ message: 'not found' }, { status: 404 });
    }
    const since = secondOf(url.searchParams.get('start_date')!);
    const until = secondOf(url.searchParams.get('end_date')!);
    const limit = Number(url.searchParams.get('limit'));
    const offset = Number(url.searchParams.get('offset'));
    if (offset > maxOffset) return Response.json({ message: 'invalid offset' }, { status: 422 });
    const matching = sessions
      .filter((s) => {
        const t = Date.parse(s.start_date as string);
        return t >= since && t <= until;
      })
      .sort((a, b) => Date.parse(b.start_date as string) - Date.parse(a.start_date as string));
    return Response.json({
      data: matching.slice(offset, offset + limit).map(hoopListItem),
      total: matching.length,
      total_is_capped: false,
      has_next_page: offset + limit < matching.length,
    });
  }) as typeof fetch;
  const lists = () => requests.filter((r) => r.url.pathname === '/api/sessions');
  return { fetchFn, requests, lists };
}

function poller(
  fetchFn: typeof fetch,
  ingest: Ingest,
  over: {
    pageSize?: number;
    maxPages?: number;
    maxListOffset?: number;
    token?: string;
    now?: () => number;
  } = {},
) {
  const metrics = createMetrics();
  const p = createHoopPoller({
    apiUrl: 'https://hoop.example.net/',
    apiToken: over.token ?? 'hpk_test-token',
    intervalMs: 60_000,
    tenant: 'acme',
    pageSize: over.pageSize,
    maxPages: over.maxPages,
    maxListOffset: over.maxListOffset,
    deps: {
      ingest,
      tokenizer: createTokenizer({ version: 1, secret: Buffer.alloc(32, 3) }),
      metrics,
      logger: createLogger('silent'),
      now: over.now ?? (() => NOW),
      fetch: fetchFn,
    },
  });
  return Object.assign(p, { metrics });
}

const ids = (events: AccessEvent[]) => new Set(events.map((e) => e.event_id));

describe('hoop.dev sessions poller', () => {
  it('pages newest first over a fixed window, reads each session by id for its script', async () => {
    const sessions = Array.from({ length: 7 }, (_, i) =>
      makeHoopApiSession({ start_date: at(3000 - i * 60) }),
    );
    const { fetchFn, requests, lists } = api(sessions);
    const ingest = fakeIngest();
    const p = poller(fetchFn, ingest, { pageSize: 3 });
    expect(await p.pollOnce()).toEqual({ sessions: 7, accepted: 7, rejected: 0 });
    expect(lists().map((r) => r.url.searchParams.get('offset'))).toEqual(['0', '3', '6']);
    expect(new Set(lists().map((r) => r.url.searchParams.get('end_date'))).size).toBe(1);
    const details = requests.filter((r) => r.url.pathname !== '/api/sessions');
    expect(details).toHaveLength(7);
    expect(details.every((r) => r.url.searchParams.get('expand') === 'session_input')).toBe(true);
    expect(requests.every((r) => r.auth === 'Bearer hpk_test-token' && r.apiKey === null)).toBe(true);
    // The script came from the detail (the list blanks it): the search and its collection are known.
    expect(ingest.events.every((e) => e.operation === 'search' && e.collection === 'docs')).toBe(true);
    expect(ids(ingest.events).size).toBe(7);
    const cp = p.checkpoint()!;
    expect(Date.parse(cp)).toBeLessThan(NOW);
    // The next window starts at the checkpoint; sessions read again fold into the same event ids.
    await p.pollOnce();
    expect(lists().at(-1)!.url.searchParams.get('start_date')).toBe(cp);
    expect(ids(ingest.events).size).toBe(7);
  });

  it('sends legacy xapi- keys only in the Api-Key header', async () => {
    expect(hoopAuthHeaders('xapi-abc')).toEqual({ 'api-key': 'xapi-abc' });
    expect(hoopAuthHeaders('hpk_abc')).toEqual({ authorization: 'Bearer hpk_abc' });
    const { fetchFn, requests } = api([makeHoopApiSession({ start_date: at(60) })]);
    await poller(fetchFn, fakeIngest(), { token: 'xapi-legacy' }).pollOnce();
    expect(requests.every((r) => r.apiKey === 'xapi-legacy' && r.auth === null)).toBe(true);
  });

  it('narrows the window instead of paging past the offset limit: no session is skipped', async () => {
    const sessions = Array.from({ length: 20 }, (_, i) =>
      makeHoopApiSession({ start_date: at(2000 - i * 30) }),
    );
    const { fetchFn, requests, lists } = api(sessions, { maxOffset: 6 });
    const ingest = fakeIngest();
    const p = poller(fetchFn, ingest, { pageSize: 3, maxListOffset: 6 });
    await p.pollOnce();
    expect(requests.some((r) => Number(r.url.searchParams.get('offset')) > 6)).toBe(false);
    expect(new Set(lists().map((r) => r.url.searchParams.get('end_date'))).size).toBeGreaterThan(1);
    expect(ids(ingest.events).size).toBe(20);
    expect(p.metrics.counter('hoop_poll_sessions_skipped')).toBe(0);
  });

  it('counts and says what it cannot page: more sessions in one second than the offset limit', async () => {
    const second = at(600);
    const sessions = Array.from({ length: 8 }, () => makeHoopApiSession({ start_date: second }));
    const { fetchFn } = api(sessions, { maxOffset: 3 });
    const p = poller(fetchFn, fakeIngest(), { pageSize: 2, maxListOffset: 3 });
    await p.pollOnce();
    expect(p.metrics.counter('hoop_poll_sessions_skipped')).toBe(1);
  });

  it('resumes a window not finished within maxPages, older part next, then moves the checkpoint', async () => {
    const sessions = Array.from({ length: 9 }, (_, i) =>
      makeHoopApiSession({ start_date: at(3000 - i * 60) }),
    );
    const { fetchFn } = api(sessions);
    const ingest = fakeIngest();
    const p = poller(fetchFn, ingest, { pageSize: 3, maxPages: 1 });
    await p.pollOnce();
    expect(ingest.events).toHaveLength(3);
    expect(p.checkpoint()).toBeUndefined();
    await p.pollOnce();
    await p.pollOnce();
    await p.pollOnce();
    expect(ids(ingest.events).size).toBe(9);
    expect(p.checkpoint()).toBeDefined();
  });

  it('keeps the checkpoint at a session still running so its outcome is picked up later', async () => {
    const sessions = [
      makeHoopApiSession({ start_date: at(1800), status: 'open', end_date: null }),
      makeHoopApiSession({ start_date: at(600) }),
    ];
    const p = poller(api(sessions).fetchFn, fakeIngest());
    await p.pollOnce();
    expect(p.checkpoint()).toBe(at(1800).replace('.000Z', 'Z'));
  });

  it('reads a session waiting for review until it is decided: pending, then the outcome', async () => {
    const waiting = makeHoopApiSession({
      start_date: at(3500),
      status: 'open',
      review: { type: 'onetime', status: 'PENDING' },
      script: { data: 'DELETE FROM docs' },
    });
    const { fetchFn, requests } = api([waiting]);
    const ingest = fakeIngest();
    let clock = NOW;
    const p = poller(fetchFn, ingest, { now: () => clock });
    await p.pollOnce();
    expect(ingest.events.map((e) => e.outcome)).toEqual(['pending']);
    // Hours later the window has moved past it; the review is approved and the session ran.
    clock = NOW + 3 * 3_600_000;
    Object.assign(waiting, { status: 'done', review: { type: 'onetime', status: 'APPROVED' } });
    await p.pollOnce();
    await p.pollOnce();
    const last = ingest.events.at(-1)!;
    expect(last).toMatchObject({
      outcome: 'allowed',
      operation: 'delete',
      event_id: ingest.events[0]!.event_id,
    });
    const byId = requests.filter((r) => r.url.pathname === `/api/sessions/${waiting.id}`);
    // Read by id: once with the first window, once when revisited; not again once decided.
    expect(byId).toHaveLength(2);
  });

  it('does not move the checkpoint when the events could not be made durable', async () => {
    const sessions = [makeHoopApiSession({ start_date: at(300) })];
    let failing = true;
    const ingest = fakeIngest(() => failing);
    const p = poller(api(sessions).fetchFn, ingest);
    await expect(p.pollOnce()).rejects.toThrow('full');
    expect(p.checkpoint()).toBeUndefined();
    failing = false;
    await p.pollOnce();
    expect(ingest.events).toHaveLength(1);
    expect(p.checkpoint()).toBeDefined();
  });

  it('reports an API error without moving the checkpoint', async () => {
    const p = poller(api([], { status: 401 }).fetchFn, fakeIngest());
    await expect(p.pollOnce()).rejects.toThrow('hoop sessions API answered 401');
    expect(p.checkpoint()).toBeUndefined();
  });

  it('skips sessions it cannot read and keeps the others', async () => {
    const sessions = [
      makeHoopApiSession({ start_date: at(180) }),
      { ...makeHoopApiSession({ start_date: at(120) }), id: '' },
    ];
    const ingest = fakeIngest();
    expect(await poller(api(sessions).fetchFn, ingest).pollOnce()).toMatchObject({
      accepted: 1,
      rejected: 1,
    });
  });

  it('start() polls at once; stop() ends it', async () => {
    const { fetchFn, requests } = api([makeHoopApiSession({ start_date: at(60) })]);
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
