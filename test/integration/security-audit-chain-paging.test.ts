// `vigil verify` over a chain of many batches, read in small pages: the chain a few records at a
// time, the rows a page at a time per partition, compared in many key-hash buckets. It gives
// exactly the answer of a run with one page for everything, still names the batch of a modified,
// deleted or inserted row, and no query it makes returns more than a page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainIdentity } from '../../src/cli/wiring/secrets.js';
import { loadConfig } from '../../src/config/index.js';
import type { Action } from '../../src/model/index.js';
import {
  type ChainedTable,
  createAuditChain,
  type VerifyReport,
  verifyAuditTrail,
} from '../../src/store/audit-chain/index.js';
import {
  actionRow,
  eventRow,
  migrate,
  openStore,
  type QueryParams,
  type StatementSettings,
  type StoreClient,
  type StoreHandle,
} from '../../src/store/index.js';
import { makeEvent } from '../helpers/factories.js';
import { tempDataDir, uniqueName } from '../helpers/services.js';

const PAGE = 7;
const DAY = 86_400_000;

/** The real client, noting how many rows each query's result held. */
function counting(client: StoreClient, seen: Array<{ query: string; rows: number }>): StoreClient {
  return {
    ...client,
    async query<T>(sql: string, params?: QueryParams, settings?: StatementSettings) {
      const rows = await client.query<T>(sql, params, settings);
      seen.push({ query: sql, rows: rows.length });
      return rows;
    },
  };
}

describe('vigil verify in small pages', () => {
  const dataDir = tempDataDir();
  const config = loadConfig({
    ...process.env,
    KAFKA_BROKERS: '',
    REDIS_URL: '',
    CLICKHOUSE_URL: '',
    VIGIL_DATA_DIR: dataDir,
  });
  const identity = chainIdentity(config);
  const tenant = uniqueName('t-paging');
  let store: StoreHandle;
  /** Each table's batches, as inserted (batch n at index n - 1). */
  const events: Array<Array<Record<string, unknown>>> = [];
  const actions: Array<Array<Record<string, unknown>>> = [];

  const verify = (pageSize?: number, since?: number, client = store.client) =>
    verifyAuditTrail({
      client,
      dataDir,
      ...identity,
      pageSize,
      since,
      tables: ['events', 'actions'],
    });
  const problems = (r: VerifyReport) =>
    r.tables.flatMap((t) =>
      t.problems.map((p) => ({ table: t.table, kind: p.kind, batch: p.batch, rows: p.rows })),
    );
  const mutate = (query: string, id: string) => store.client.command(query, { id }, { mutations_sync: 2 });

  beforeAll(async () => {
    store = await openStore(config.env, dataDir);
    await migrate(store.client, { eventsTtlDays: config.env.VIGIL_EVENTS_TTL_DAYS });
    const chain = (table: ChainedTable) =>
      createAuditChain({ client: store.client, table, dataDir, ...identity });
    const eventChain = chain('events');
    const actionChain = chain('actions');
    const now = Date.now();
    // 150 batches of 1-4 events over three days (three partitions), 40 batches of 1-3 actions.
    for (let b = 0; b < 150; b++) {
      const rows = Array.from({ length: 1 + (b % 4) }, (_, i) =>
        eventRow(makeEvent({ tenant, time: now - (b % 3) * DAY - (b * 4 + i) * 1_000 })),
      );
      await eventChain.insert(rows, (token) => store.client.insert('events', rows, token));
      events.push(rows);
    }
    for (let b = 0; b < 40; b++) {
      const rows = Array.from({ length: 1 + (b % 3) }, (_, i) => {
        const a: Action = {
          action_id: `act-${b}-${i}`,
          job_id: `job-${b}-${i}`,
          incident_id: `inc-${b}`,
          tenant,
          kind: 'revoke',
          target: 'wv',
          mode: 'enforce',
          attempt: 1,
          outcome: 'succeeded',
          latency_ms: 12,
          error: '',
          time: now - (b % 2) * 40 * DAY - b * 1_000,
        };
        return actionRow(a);
      });
      await actionChain.insert(rows, (token) => store.client.insert('actions', rows, token));
      actions.push(rows);
    }
  });
  afterAll(async () => {
    await store?.close();
  });

  it('verifies intact, as a run with one page does, reading at most a page per query', async () => {
    const seen: Array<{ query: string; rows: number }> = [];
    const paged = await verify(PAGE, undefined, counting(store.client, seen));
    const whole = await verify(1_000_000);
    expect(problems(paged)).toEqual([]);
    expect(paged).toEqual(whole);
    expect(paged.tables.map((t) => [t.table, t.batches, t.rows])).toEqual([
      ['events', 150, 373],
      ['actions', 40, 79],
    ]);
    const reads = seen.filter((s) => /FROM\s+(events|actions|audit_chain)\b/.test(s.query));
    // Pages of rows per partition, chain records one at a time (a batch holds up to 4 rows).
    expect(reads.length).toBeGreaterThan(150 + 40);
    expect(Math.max(...reads.map((s) => s.rows))).toBeLessThanOrEqual(PAGE);
  });

  it('still names the batch of a modified, a deleted and an inserted row', async () => {
    const id = (rows: Array<Record<string, unknown>>, i: number, col: string) => String(rows[i]![col]);
    // Events (ReplacingMergeTree): a row of batch 17 changed, one of batch 63 deleted, one forged.
    await mutate(
      `ALTER TABLE events UPDATE collection = 'exfil' WHERE event_id = {id:String}`,
      id(events[16]!, 0, 'event_id'),
    );
    await mutate('ALTER TABLE events DELETE WHERE event_id = {id:String}', id(events[62]!, 1, 'event_id'));
    await store.client.insert('events', [eventRow(makeEvent({ tenant, time: Date.now() - 5_000 }))]);
    // Actions (plain MergeTree): a second copy of a row of batch 33, a row of batch 12 deleted.
    await store.client.insert('actions', [actions[32]![0]!]);
    await mutate(
      'ALTER TABLE actions DELETE WHERE action_id = {id:String}',
      id(actions[11]!, 0, 'action_id'),
    );

    const paged = await verify(PAGE);
    expect(paged.intact).toBe(false);
    expect(problems(paged)).toEqual([
      { table: 'events', kind: 'modified', batch: 17, rows: 1 },
      { table: 'events', kind: 'deleted', batch: 63, rows: 1 },
      { table: 'events', kind: 'inserted', batch: undefined, rows: 1 },
      { table: 'actions', kind: 'deleted', batch: 12, rows: 1 },
      { table: 'actions', kind: 'inserted', batch: 33, rows: 1 },
    ]);
    expect(problems(await verify(1_000_000))).toEqual(problems(paged));
    // Bounded by time too: what was stored in the last hour, in small pages, the same answer.
    const hour = Date.now() - 3_600_000;
    expect(problems(await verify(PAGE, hour))).toEqual(problems(await verify(1_000_000, hour)));
  });

  it('names a chain record deleted in the middle of a page run', async () => {
    await store.client.command(
      "ALTER TABLE audit_chain DELETE WHERE tbl = 'events' AND batch_seq = 101",
      undefined,
      { mutations_sync: 2 },
    );
    const paged = await verify(PAGE);
    const kinds = problems(paged).map((p) => `${p.table}:${p.kind}:${p.batch ?? ''}`);
    expect(kinds).toContain('events:chain-broken:101');
    // Its rows are no longer recorded by any batch: they count as inserted.
    const inserted = paged.tables[0]!.problems.find((p) => p.kind === 'inserted' && p.batch === undefined);
    expect(inserted?.rows).toBe(1 + events[100]!.length);
    expect(problems(await verify(1_000_000))).toEqual(problems(paged));
  });
});
