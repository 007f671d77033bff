// The read-only guard of the ClickHouse HTTP interface and the Native re-framing, as pure
// functions: what is admitted, how it is rewritten, and what is refused with which error.
import { describe, expect, it } from 'vitest';
import { nativeForRevision, parseType } from '../../src/admin/clickhouse-native.js';
import {
  checkReadStatement,
  isRefusal,
  type ReadStatement,
  type Refusal,
  tokenize,
  withReadOnlySettings,
} from '../../src/admin/clickhouse-sql.js';

const admit = (sql: string): ReadStatement => {
  const r = checkReadStatement(sql);
  if (isRefusal(r)) throw new Error(`refused: ${r.message}`);
  return r;
};
const refuse = (sql: string): Refusal => {
  const r = checkReadStatement(sql);
  if (!isRefusal(r)) throw new Error(`admitted: ${sql}`);
  return r;
};

describe('tokenize', () => {
  it('skips comments and keeps strings, quoted names and heredocs whole', () => {
    const t = tokenize('SELECT \'a;b\' -- DROP\n, "x" /* nested /* */ DROP */, $$x;y$$ # c\n;');
    expect(t.map((x) => x.text)).toEqual(['SELECT', "'a;b'", ',', '"x"', ',', '$$x;y$$', ';']);
  });

  it('tracks parenthesis depth', () => {
    expect(tokenize('f(a, (b))').map((t) => t.depth)).toEqual([0, 0, 1, 1, 1, 2, 1, 0]);
  });
});

describe('checkReadStatement', () => {
  it.each([
    ['SELECT 1', 'select'],
    ['  with x AS (SELECT 1) select * from x', 'select'],
    ['(SELECT 1) UNION ALL (SELECT 2)', 'select'],
    ['SHOW TABLES', 'show'],
    ['DESC events', 'describe'],
    ['DESCRIBE TABLE events', 'describe'],
    ['EXISTS TABLE events', 'exists'],
    ['EXPLAIN PLAN header = 1 SELECT 1', 'explain'],
    ['-- leading comment\nSELECT 1;', 'select'],
  ])('admits %s', (sql, kind) => {
    expect(admit(sql).kind).toBe(kind);
  });

  it('takes the FORMAT clause out, from the end only', () => {
    expect(admit('SELECT format FROM t FORMAT JSONEachRow')).toMatchObject({
      body: 'SELECT format FROM t',
      format: 'JSONEachRow',
    });
    expect(admit("SELECT formatRow('CSV', 1) FORMAT JSON SETTINGS max_threads = 1")).toMatchObject({
      body: "SELECT formatRow('CSV', 1) SETTINGS max_threads = 1",
      format: 'JSON',
      endsWithSettings: true,
    });
    expect(admit('SELECT 1 AS format').format).toBeUndefined();
  });

  it.each([
    ['INSERT INTO t VALUES (1)', 164],
    ['insert into t select 1', 164],
    ['ALTER TABLE t DELETE WHERE 1', 164],
    ['CREATE TABLE t (x UInt8) ENGINE = Memory', 164],
    ['DROP TABLE t', 164],
    ['SYSTEM FLUSH LOGS', 164],
    ['SET max_threads = 1', 164],
    ['USE system', 164],
    ['KILL QUERY ALL', 164],
    ['OPTIMIZE TABLE t', 164],
    ['TRUNCATE t', 164],
    ['RENAME TABLE a TO b', 164],
    ['GRANT SELECT ON *.* TO u', 164],
    ['EXPLAIN SYNTAX INSERT INTO t VALUES (1)', 164],
    ['SELECT 1; SELECT 2', 62],
    ["SELECT * FROM file('x')", 497],
    ["SELECT * FROM Url('http://x')", 497],
    ['SELECT * FROM "remoteSecure"(\'h\', db.t)', 497],
    ["SELECT * FROM mysql('h', 'db', 't', 'u', 'p')", 497],
    ["SELECT 1 INTO OUTFILE 'x'", 497],
    ['SELECT 1 FORMAT CapnProto', 497],
    ['SELECT 1 SETTINGS allow_ddl = 1', 164],
    ['SELECT 1 SETTINGS max_threads = (1), format_schema = 1', 164],
    ['', 62],
    ["SELECT 'unterminated", 62],
  ])('refuses %s (code %d)', (sql, code) => {
    const r = refuse(sql);
    expect(r.code).toBe(code);
    expect(r.status).toBe(code === 62 && !sql.includes(';') ? 400 : 403);
  });

  it('does not mistake strings and comments for statements', () => {
    expect(admit("SELECT 'DROP TABLE t; INSERT' -- ; DELETE").kind).toBe('select');
    expect(admit("SELECT 'file(1)' AS url_text").kind).toBe('select');
    expect(admit("SELECT cutURLParameter(x, 'a') FROM t").kind).toBe('select');
  });
});

describe('withReadOnlySettings', () => {
  it('appends the allowed settings and readonly = 1 as a query-level SETTINGS clause', () => {
    expect(withReadOnlySettings(admit('SELECT 1 -- note'), [['max_execution_time', '65']])).toBe(
      'SELECT 1\nSETTINGS max_execution_time = 65, readonly = 1',
    );
    expect(withReadOnlySettings(admit('SELECT 1 SETTINGS max_threads = 2 FORMAT JSON'), [])).toBe(
      'SELECT 1 SETTINGS max_threads = 2, readonly = 1',
    );
    expect(withReadOnlySettings(admit('SELECT 1'), [['session_timezone', "Europe/O'Brien"]])).toBe(
      "SELECT 1\nSETTINGS session_timezone = 'Europe/O\\'Brien', readonly = 1",
    );
  });
});

describe('nativeForRevision', () => {
  // SELECT 1 AS a, 'x' AS b FORMAT Native, as the engine writes it (revision 0).
  const revision0 = Buffer.from('020101610555496e743801016206537472696e670178', 'hex');

  it('adds block info and the per-column serialization flag for a revision ≥ 54454', () => {
    const out = nativeForRevision(revision0, 54460);
    expect(out.toString('hex')).toBe(
      `0100 02ffffffff 00`.replace(/ /g, '') +
        '0201' +
        '0161' +
        '0555496e7438' +
        '00' +
        '01' +
        '0162' +
        '06537472696e67' +
        '00' +
        '0178',
    );
  });

  it('leaves revision 0 and empty results alone', () => {
    expect(nativeForRevision(revision0, 0)).toBe(revision0);
    expect(nativeForRevision(Buffer.alloc(0), 54460)).toHaveLength(0);
  });

  it('walks LowCardinality inside Array (state prefix before the offsets)', () => {
    // [toLowCardinality('ab')] AS a, map('k',1) m, (1,'x') t, toNullable(3) n
    const data = Buffer.from(
      '040101611d4172726179284c6f7743617264696e616c69747928537472696e672929010000000000000001000000000000000006000000000000020000000000000000026162010000000000000001016d124d617028537472696e672c2055496e7438290100000000000000016b010174145475706c652855496e74382c20537472696e6729010178016e0f4e756c6c61626c652855496e7438290003',
      'hex',
    );
    const out = nativeForRevision(data, 54460);
    // One block info and one flag per column (4 columns) more than the input.
    expect(out.length).toBe(data.length + 8 + 4);
  });

  it('refuses types whose layout it does not know', () => {
    const dyn = Buffer.concat([Buffer.from([1, 1, 1, 0x61, 7]), Buffer.from('Dynamic'), Buffer.from([0, 0])]);
    expect(() => nativeForRevision(dyn, 54460)).toThrow(/Dynamic/);
  });

  it('parses named tuples and quoted arguments', () => {
    expect(parseType("Tuple(a DateTime64(3, 'UTC'), `b c` Enum8('x,y' = 1))").args).toEqual([
      "a DateTime64(3, 'UTC')",
      "`b c` Enum8('x,y' = 1)",
    ]);
  });
});
