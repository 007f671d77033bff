// The store against the real ClickHouse engine (embedded chDB): migrations, the batched writer's
// durability, deduplication, poison-row isolation and the per-minute rollup.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import type { AccessEvent, Action } from '../../src/model/index.js';
import {
  actionRow,
  createBatchedWriter,
  createJobSuccessLookup,
  eventRow,
  insertRows,
  migrate,
  openStore,
  type StoreHandle,
  summary,
} from '../../src/store/index.js';
import { makeEvent } from '../helpers/factories.js';
import { tempDataDir, uniqueName } from '../helpers/services.js';
import { testTime } from '../helpers/clock.js';

describe('ClickHouse store (embedded engine)', () => {
  let store: StoreHandle;

  beforeAll(async () => {
    const config = loadConfig({ VIGIL_DATA_DIR: tempDataDir() });
    store = await openStore(config.env, config.dataDir);
  });
  afterAll(async () => store?.close());

  const count = async (sql: string, params: Record<string, unknown>) => {
    const rs = await store.client.query({ query: sql, query_params: params, format: 'JSONEachRow' });
    return Number(((await rs.json<{ n: string }>())[0] ?? { n: 0 }).n);
  };

  it('applies migrations once and records them', async () => {
    const first = await migrate(store.client, { eventsTtlDays: 30 });
    expect(first.applied).toContain('001_core_tables');
    const second = await migrate(store.client, { eventsTtlDays: 30 });
    expect(second.applied).toEqual([]);
    const rs = await store.client.query({
      query: "SELECT engine_full FROM system.tables WHERE name = 'events' AND database = currentDatabase()",
      format: 'JSONEachRow',
    });
    expect((await rs.json<{ engine_full: string }>())[0]!.engine_full).toContain(
      'TTL toDateTime(time) + toIntervalDay(30)',
    );
  });

  it('stores every written event once, even when batches are redelivered', async () => {
    const tenant = uniqueName('dedup');
    const events = Array.from({ length: 2_000 }, (_, i) =>
      makeEvent({ tenant, time: testTime(0, 10, 0, i % 60) }),
    );
    const writer = createBatchedWriter<AccessEvent>({
      client: store.client,
      table: 'events',
      toRow: eventRow,
      dedupKey: (e) => e.event_id,
      maxRows: 500,
    });
    await writer.write(events);
    await writer.write(events.slice(0, 700)); // an exact redelivery
    // A fresh writer (a restarted consumer) gets an overlapping batch: the engine folds it.
    const restarted = createBatchedWriter<AccessEvent>({
      client: store.client,
      table: 'events',
      toRow: eventRow,
      dedupKey: (e) => e.event_id,
    });
    await restarted.write(events.slice(1_500));
    await restarted.write(events.slice(1_500));
    await Promise.all([writer.close(), restarted.close()]);
    expect((await summary(store.client, tenant)).distinct_events).toBe(2_000);
    expect(
      await count('SELECT count() AS n FROM events FINAL WHERE tenant = {t:String}', { t: tenant }),
    ).toBe(2_000);
    expect(writer.stats.deduplicated).toBe(700);
  });

  it('drops an insert repeated with its token, and only that one (the token is per insert)', async () => {
    // The embedded engine takes inserts as raw bytes with the token in the statement's SETTINGS;
    // before, the token was a session-wide SET that a later insert could inherit.
    const tenant = uniqueName('token');
    const attempt = (n: number, error: string) =>
      actionRow({
        action_id: `a${n}`,
        job_id: 'job',
        incident_id: 'inc',
        tenant,
        kind: 'webhook',
        target: 'hooks.example',
        mode: 'enforce',
        attempt: n,
        outcome: 'retrying',
        latency_ms: 1.5,
        error,
        time: testTime(0, 10, 0, n),
      });
    const rows = [attempt(1, 'a "quoted" error\twith a tab, ü, \\n'), attempt(2, '')];
    await insertRows(store.client, 'actions', rows, `${tenant}-1`);
    await insertRows(store.client, 'actions', rows, `${tenant}-1`);
    const stored = async () => {
      const rs = await store.client.query({
        query: 'SELECT attempt, error FROM actions WHERE tenant = {t:String} ORDER BY attempt',
        query_params: { t: tenant },
        format: 'JSONEachRow',
      });
      return rs.json<{ attempt: number; error: string }>();
    };
    expect(await stored()).toEqual([
      { attempt: 1, error: rows[0]!.error },
      { attempt: 2, error: '' },
    ]);
    await insertRows(store.client, 'actions', rows.slice(1));
    await insertRows(store.client, 'actions', rows.slice(1));
    expect((await stored()).filter((r) => r.attempt === 2)).toHaveLength(3);
  });

  it('answers which jobs succeeded, asking the store once for the questions that came together', async () => {
    const tenant = uniqueName('jobs');
    const attempt = (job: string, outcome: Action['outcome']) =>
      actionRow({
        action_id: `${job}-${outcome}`,
        job_id: job,
        incident_id: 'inc',
        tenant,
        kind: 'webhook',
        target: '',
        mode: 'enforce',
        attempt: 1,
        outcome,
        latency_ms: 0,
        error: '',
        time: testTime(0, 10),
      });
    const done = `${tenant}-done`;
    const failed = `${tenant}-failed`;
    await insertRows(store.client, 'actions', [attempt(done, 'succeeded'), attempt(failed, 'retrying')]);
    let queries = 0;
    const counting = new Proxy(store.client, {
      get(target, key, receiver) {
        if (key === 'query') queries++;
        return Reflect.get(target, key, receiver);
      },
    });
    const succeeded = createJobSuccessLookup(counting);
    const first = succeeded(done);
    const together = [succeeded(failed), succeeded(`${tenant}-never`), succeeded(done)];
    expect(await first).toBe(true);
    expect(await Promise.all(together)).toEqual([false, false, true]);
    // The first question went at once; the three asked meanwhile went together in a second query.
    expect(queries).toBe(2);
    expect(await succeeded(failed)).toBe(false);
  });

  it('isolates poison rows into dead_letters and keeps the rest of the batch', async () => {
    const tenant = uniqueName('poison');
    const events = Array.from({ length: 100 }, () => makeEvent({ tenant }));
    const poisoned = new Set([events[13]!.event_id, events[77]!.event_id]);
    const writer = createBatchedWriter<AccessEvent>({
      client: store.client,
      table: 'events',
      toRow: (e) => (poisoned.has(e.event_id) ? { ...eventRow(e), time: 'not a time' } : eventRow(e)),
    });
    await writer.write(events);
    await writer.close();
    expect(await count('SELECT count() AS n FROM events WHERE tenant = {t:String}', { t: tenant })).toBe(98);
    expect(writer.stats.deadLettered).toBe(2);
    expect(
      await count("SELECT count() AS n FROM dead_letters WHERE target = 'events' AND row LIKE {p:String}", {
        p: `%${tenant}%`,
      }),
    ).toBe(2);
  });

  it('keeps a per-minute rollup per identity, collection and operation', async () => {
    const tenant = uniqueName('rollup');
    const minute = testTime(1, 9, 30);
    const events = [
      ...Array.from({ length: 30 }, (_, i) =>
        makeEvent({ tenant, time: minute + i * 1000, collection: 'pii', returned: 4 }),
      ),
      ...Array.from({ length: 5 }, () =>
        makeEvent({ tenant, time: minute + 61_000, collection: 'pii', outcome: 'denied', returned: 0 }),
      ),
    ];
    const writer = createBatchedWriter<AccessEvent>({
      client: store.client,
      table: 'events',
      toRow: eventRow,
    });
    await writer.write(events);
    await writer.close();
    const rs = await store.client.query({
      query: `SELECT toUnixTimestamp(minute) * 1000 AS m, sum(requests) AS requests, sum(returned) AS returned, sum(denied) AS denied
              FROM events_1m WHERE tenant = {t:String} GROUP BY minute ORDER BY minute`,
      query_params: { t: tenant },
      format: 'JSONEachRow',
    });
    const rows = (await rs.json<Record<string, string>>()).map((r) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Number(v)])),
    );
    expect(rows).toEqual([
      { m: minute, requests: 30, returned: 120, denied: 0 },
      { m: minute + 60_000, requests: 5, returned: 0, denied: 5 },
    ]);
  });

  it('applies backpressure: a full buffer makes writers wait instead of growing', async () => {
    const tenant = uniqueName('bp');
    const writer = createBatchedWriter<AccessEvent>({
      client: store.client,
      table: 'events',
      toRow: eventRow,
      maxRows: 100,
      maxBufferedRows: 150,
      maxAgeMs: 10,
    });
    let peak = 0;
    const writes = Array.from({ length: 10 }, () => {
      const p = writer.write(Array.from({ length: 100 }, () => makeEvent({ tenant })));
      peak = Math.max(peak, writer.stats.buffered);
      return p;
    });
    await Promise.all(writes);
    await writer.close();
    expect(peak).toBeLessThanOrEqual(150);
    expect(await count('SELECT count() AS n FROM events WHERE tenant = {t:String}', { t: tenant })).toBe(
      1_000,
    );
  });
});
