// How the store client hands a statement's settings to @clickhouse/client: as the request's settings
// for a server (URL parameters, per request), never for the embedded engine (its connection would
// run them as session-wide SETs) — there they are the statement's own SETTINGS clause.
import { describe, expect, it } from 'vitest';
import { createStoreClient, settingsClause, type StoreEngine } from '../../../src/store/store-client.js';

type RawClient = Parameters<typeof createStoreClient>[0];
type Call = { method: string; params: Record<string, unknown> };

/** A client that records what it is asked and answers with no rows. */
function recordingClient(calls: Call[]): RawClient {
  const answer = { json: async () => [], stream: (async function* () {})() };
  const record = (method: string) => async (params: Record<string, unknown>) => {
    calls.push({ method, params });
    return method === 'exec' ? { ...answer, summary: { result_rows: '0' } } : answer;
  };
  return {
    query: record('query'),
    command: record('command'),
    exec: record('exec'),
    insert: record('insert'),
    ping: async () => ({ success: true }),
    close: async () => {},
  } as unknown as RawClient;
}

function clientOf(kind: StoreEngine['kind']) {
  const calls: Call[] = [];
  const engine: StoreEngine =
    kind === 'server'
      ? { kind }
      : {
          kind,
          rawInsert: (async (params: Record<string, unknown>) => {
            calls.push({ method: 'rawInsert', params });
            return {};
          }) as unknown as Extract<StoreEngine, { kind: 'embedded' }>['rawInsert'],
        };
  return { calls, client: createStoreClient(recordingClient(calls), engine) };
}

const LIMIT = { max_result_rows: 5, result_overflow_mode: 'throw' } as const;

describe('store client: statement settings', () => {
  it('embedded: a statement carries its settings in its own SETTINGS clause, the client gets none', async () => {
    const { calls, client } = clientOf('embedded');
    await client.query('SELECT 1', undefined, LIMIT);
    await client.queryArrays('SELECT 1', { x: 1 }, LIMIT);
    await client.command('ALTER TABLE t DELETE WHERE 1', undefined, { mutations_sync: 2 });
    await client.exec('SELECT 2', { format: 'JSON', settings: { date_time_output_format: 'iso' } });
    expect(calls.map((c) => [c.method, c.params.query, c.params.clickhouse_settings])).toEqual([
      ['query', "SELECT 1\nSETTINGS max_result_rows = 5, result_overflow_mode = 'throw'", undefined],
      ['query', "SELECT 1\nSETTINGS max_result_rows = 5, result_overflow_mode = 'throw'", undefined],
      ['command', 'ALTER TABLE t DELETE WHERE 1\nSETTINGS mutations_sync = 2', undefined],
      // The output format is the engine's option for this call, not a SET.
      ['exec', "SELECT 2\nSETTINGS date_time_output_format = 'iso'", { default_format: 'JSON' }],
    ]);
  });

  it('embedded: every insert goes to the engine with its token in the statement, none through the client', async () => {
    const { calls, client } = clientOf('embedded');
    await client.insert('events', [{ a: 1 }], 'token-1');
    await client.insert('events', [{ a: 2 }]);
    expect(calls.map((c) => c.method)).toEqual(['query', 'rawInsert', 'rawInsert']);
    const [, first, second] = calls;
    expect(first!.params).toMatchObject({ table: 'events', format: 'JSONEachRow' });
    expect(first!.params.settings).toEqual({ insert_deduplication_token: 'token-1' });
    expect(String((first!.params.values as Buffer).toString('utf8'))).toBe('[{"a":1}]'); // JSONEachRow rows as one JSON array
    // Without a token of its own, a fresh one: never the previous insert's.
    const fresh = (second!.params.settings as { insert_deduplication_token: string })
      .insert_deduplication_token;
    expect(fresh).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('server: the settings are the request’s, the statement is sent as written', async () => {
    const { calls, client } = clientOf('server');
    await client.query('SELECT 1', undefined, LIMIT);
    await client.command('INSERT INTO t SELECT 1', undefined, { insert_deduplication_token: 'x' });
    await client.exec('SELECT 2', { format: 'JSON' });
    await client.insert('events', [{ a: 1 }], 'token-1');
    expect(calls.map((c) => [c.method, c.params.query, c.params.clickhouse_settings])).toEqual([
      ['query', 'SELECT 1', LIMIT],
      ['command', 'INSERT INTO t SELECT 1', { insert_deduplication_token: 'x' }],
      ['exec', 'SELECT 2', { default_format: 'JSON' }],
      ['query', expect.stringContaining('system.columns'), undefined],
      ['insert', undefined, { insert_deduplication_token: 'token-1' }],
    ]);
  });

  it('nothing is added to a statement without settings', async () => {
    const { calls, client } = clientOf('embedded');
    await client.query('SELECT 1');
    await client.query('SELECT 1', undefined, {});
    await client.query('SELECT 1', undefined, { max_result_rows: undefined });
    expect(calls.map((c) => c.params.query)).toEqual(['SELECT 1', 'SELECT 1', 'SELECT 1']);
  });
});

describe('settingsClause', () => {
  it('puts the clause on a line of its own (after a comment), without trailing semicolons', () => {
    expect(settingsClause('SELECT 1 -- note', { max_result_rows: 1 })).toBe(
      'SELECT 1 -- note\nSETTINGS max_result_rows = 1',
    );
    expect(settingsClause('SELECT 1;; \n', { max_result_rows: 1 })).toBe(
      'SELECT 1\nSETTINGS max_result_rows = 1',
    );
  });

  it('quotes strings as engine literals', () => {
    expect(settingsClause('INSERT INTO t SELECT 1', { insert_deduplication_token: "a'b\\c" })).toBe(
      "INSERT INTO t SELECT 1\nSETTINGS insert_deduplication_token = 'a\\'b\\\\c'",
    );
  });

  it('refuses a value the engine could not read back', () => {
    expect(() => settingsClause('SELECT 1', { max_result_rows: Number.NaN })).toThrow(/finite/);
    expect(() => settingsClause('SELECT 1', { ['max rows' as 'max_result_rows']: 1 })).toThrow(
      /setting name/,
    );
  });
});
