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
  findFinding,
  findIncident,
  findingRow,
  incidentRow,
  listFindings,
  listIncidents,
  migrate,
  openStore,
  type StoreHandle,
  summary,
} from '../../src/store/index.js';
import { tableShape } from '../../src/store/audit-chain/index.js';
import { makeEvent, makeFinding } from '../helpers/factories.js';
import { makeIncident } from '../helpers/export-records.js';
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
    const [row] = await store.client.query<{ n: string }>(sql, params);
    return Number((row ?? { n: 0 }).n);
  };

  it('applies migrations once and records them', async () => {
    const first = await migrate(store.client, { eventsTtlDays: 30 });
    expect(first.applied).toContain('001_core_tables');
    const second = await migrate(store.client, { eventsTtlDays: 30 });
    expect(second.applied).toEqual([]);
    const [events] = await store.client.query<{ engine_full: string }>(
      "SELECT engine_full FROM system.tables WHERE name = 'events' AND database = currentDatabase()",
    );
    expect(events!.engine_full).toContain('TTL toDateTime(time) + toIntervalDay(30)');
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
    await store.client.insert('actions', rows, `${tenant}-1`);
    await store.client.insert('actions', rows, `${tenant}-1`);
    const stored = () =>
      store.client.query<{ attempt: number; error: string }>(
        'SELECT attempt, error FROM actions WHERE tenant = {t:String} ORDER BY attempt',
        { t: tenant },
      );
    expect(await stored()).toEqual([
      { attempt: 1, error: rows[0]!.error },
      { attempt: 2, error: '' },
    ]);
    await store.client.insert('actions', rows.slice(1));
    await store.client.insert('actions', rows.slice(1));
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
    await store.client.insert('actions', [attempt(done, 'succeeded'), attempt(failed, 'retrying')]);
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
    const minutes = await store.client.query<Record<string, string>>(
      `SELECT toUnixTimestamp(minute) * 1000 AS m, sum(requests) AS requests, sum(returned) AS returned, sum(denied) AS denied
              FROM events_1m WHERE tenant = {t:String} GROUP BY minute ORDER BY minute`,
      { t: tenant },
    );
    const rows = minutes.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Number(v)])));
    expect(rows).toEqual([
      { m: minute, requests: 30, returned: 120, denied: 0 },
      { m: minute + 60_000, requests: 5, returned: 0, denied: 5 },
    ]);
  });

  it("keeps a finding's first firing and issue count through a re-issue under the same id", async () => {
    await migrate(store.client, { eventsTtlDays: 30 });
    const tenant = uniqueName('history');
    const fired = testTime(0, 3, 10);
    const first = makeFinding({
      tenant,
      event_time: fired,
      first_fired_time: fired,
      detected_time: fired + 50,
    });
    const reissued = {
      ...first,
      event_time: fired + 7 * 60_000,
      update_count: 3,
      detected_time: fired + 7 * 60_000 + 50,
      observed: 900,
    };
    await store.client.insert('findings', [findingRow(first)]);
    await store.client.insert('findings', [findingRow(reissued)]);
    const want = { event_time: fired + 7 * 60_000, first_fired_time: fired, update_count: 3, observed: 900 };
    expect(await findFinding(store.client, first.finding_id)).toMatchObject(want);
    const listed = await listFindings(store.client, { tenant });
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject(want);

    // A row written before the columns existed (without them) reads as one issue at its event time.
    const {
      first_fired_time: _f,
      update_count: _u,
      ...older
    } = findingRow(makeFinding({ tenant, event_time: fired + 3_600_000 }));
    await store.client.insert('findings', [older]);
    const old = await findFinding(store.client, String(older.finding_id));
    expect(old).toMatchObject({ first_fired_time: fired + 3_600_000, update_count: 1 });
  });

  it("stores an incident's event times (opened, latest finding) apart from its write time", async () => {
    await migrate(store.client, { eventsTtlDays: 30 });
    const tenant = uniqueName('incident-times');
    const opened = testTime(0, 2);
    const incident = makeIncident({
      tenant,
      opened_time: opened,
      last_event_time: opened + 50 * 60_000,
      updated_time: Date.now(),
    });
    await store.client.insert('incidents', [incidentRow(incident)]);
    expect(await findIncident(store.client, incident.incident_id)).toEqual(incident);
    expect(await listIncidents(store.client, { tenant })).toEqual([incident]);

    // Stored before the column existed: its latest finding is taken to be the one that opened it.
    const { last_event_time: _l, ...older } = incidentRow(makeIncident({ tenant, opened_time: opened }));
    await store.client.insert('incidents', [older]);
    expect(await findIncident(store.client, String(older.incident_id))).toMatchObject({
      opened_time: opened,
      last_event_time: opened,
    });
  });

  it('covers the history columns by the audit chain (zero defaults: digested, older digests unchanged)', async () => {
    await migrate(store.client, { eventsTtlDays: 30 });
    const digested = async (table: string) =>
      (await tableShape(store.client, table)).columns.map((c) => c.name);
    expect(await digested('findings')).toEqual(expect.arrayContaining(['first_fired_time', 'update_count']));
    expect(await digested('incidents')).toContain('last_event_time');
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
