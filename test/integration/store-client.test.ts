// The store client against the embedded engine (chDB), whose connection turns a request's settings
// into session-wide SETs: a setting given to one statement applies to that statement and to no
// other — not the next one, not one running at the same time, not the session.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { openStore, type StoreHandle } from '../../src/store/index.js';
import { testTime } from '../helpers/clock.js';
import { tempDataDir, uniqueName } from '../helpers/services.js';

/** The settings the client's statements are given in these tests. */
const SETTINGS = [
  'max_result_rows',
  'result_overflow_mode',
  'date_time_output_format',
  'mutations_sync',
  'insert_deduplication_token',
];

describe('store client settings (embedded engine)', () => {
  let store: StoreHandle;
  const table = uniqueName('settings').replace(/\W/g, '_');

  /** The session's own value of each setting above. */
  const sessionSettings = () =>
    store.client.query<{ name: string; value: string; changed: number }>(
      'SELECT name, value, changed FROM system.settings WHERE name IN {names:Array(String)} ORDER BY name',
      { names: SETTINGS },
    );
  const tenRows = 'SELECT number FROM numbers(10)';

  beforeAll(async () => {
    const config = loadConfig({ VIGIL_DATA_DIR: tempDataDir() });
    store = await openStore(config.env, config.dataDir);
    expect(store.kind).toBe('embedded');
    // A deduplication window as vigil's tables have: a repeated insert token is dropped.
    await store.client.command(
      `CREATE TABLE ${table} (n UInt32, s String) ENGINE = MergeTree ORDER BY n
       SETTINGS non_replicated_deduplication_window = 100`,
    );
  });
  afterAll(async () => store?.close());

  it('applies a result limit to its statement only', async () => {
    const before = await sessionSettings();
    await expect(
      store.client.query(tenRows, undefined, { max_result_rows: 3, result_overflow_mode: 'throw' }),
    ).rejects.toMatchObject({ code: '396', type: 'TOO_MANY_ROWS_OR_BYTES' });
    expect(await store.client.query(tenRows)).toHaveLength(10);
    expect(await store.client.queryArrays(tenRows)).toHaveLength(10);
    expect(await sessionSettings()).toEqual(before);
  });

  it('applies an output format setting to its statement only, in query and exec alike', async () => {
    const seconds = testTime(0, 12) / 1000;
    const iso = new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
    const simple = iso.replace('T', ' ').replace('Z', '');
    const sql = "SELECT toDateTime({s:UInt32}, 'UTC') AS t";
    const params = { s: seconds };
    expect(await store.client.query(sql, params, { date_time_output_format: 'iso' })).toEqual([{ t: iso }]);
    expect(await store.client.query(sql, params)).toEqual([{ t: simple }]);
    const json = await store.client.exec(sql, {
      format: 'JSON',
      params,
      settings: { date_time_output_format: 'iso' },
    });
    expect(JSON.parse(json.body.toString('utf8')).data).toEqual([{ t: iso }]);
    const plain = await store.client.exec(sql, { format: 'JSONEachRow', params });
    expect(plain.body.toString('utf8')).toBe(`${JSON.stringify({ t: simple })}\n`);
  });

  it('leaves statements running at the same time untouched', async () => {
    const limited = store.client.query(tenRows, undefined, {
      max_result_rows: 1,
      result_overflow_mode: 'throw',
    });
    const others = Array.from({ length: 8 }, () => store.client.query(tenRows));
    const [first, ...rest] = await Promise.allSettled([limited, ...others]);
    expect(first!.status).toBe('rejected');
    expect(rest.map((r) => (r.status === 'fulfilled' ? r.value.length : r.reason))).toEqual(
      Array(8).fill(10),
    );
  });

  it('keeps an insert token and a mutation setting out of the session', async () => {
    const before = await sessionSettings();
    const rows = [
      { n: 1, s: 'a' },
      { n: 2, s: 'b' },
    ];
    await store.client.insert(table, rows, 'token-1');
    await store.client.insert(table, rows, 'token-1');
    // The same rows again without a token: stored (a fresh token, not the previous insert's).
    await store.client.insert(table, rows);
    const mutation = `ALTER TABLE ${table} UPDATE s = 'z' WHERE n = {n:UInt32}`;
    await store.client.command(mutation, { n: 1 }, { mutations_sync: 2 });
    // mutations_sync: the update is done when the command returns.
    expect(await store.client.query(`SELECT n, s FROM ${table} ORDER BY n, s`)).toEqual([
      { n: 1, s: 'z' },
      { n: 1, s: 'z' },
      { n: 2, s: 'b' },
      { n: 2, s: 'b' },
    ]);
    expect(await sessionSettings()).toEqual(before);
  });

  it('puts the settings after a trailing comment or semicolon of the statement', async () => {
    for (const sql of [`${tenRows} -- every number`, `${tenRows};`]) {
      await expect(
        store.client.query(sql, undefined, { max_result_rows: 3, result_overflow_mode: 'throw' }),
      ).rejects.toMatchObject({ type: 'TOO_MANY_ROWS_OR_BYTES' });
    }
  });
});
