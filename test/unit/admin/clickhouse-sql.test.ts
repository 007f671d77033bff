// The read-only policy of the ClickHouse HTTP interface and the Native re-framing, as pure
// functions. The trees below are `EXPLAIN AST` output as the embedded engine prints it (chdb 3.4);
// test/integration/clickhouse-http.test.ts runs the same policy against the engine itself.
import { describe, expect, it } from 'vitest';
import { AGGREGATE_FUNCTIONS, SCALAR_FUNCTIONS } from '../../../src/admin/clickhouse-functions.js';
import { nativeForRevision, parseType } from '../../../src/admin/clickhouse-native.js';
import {
  type AstNode,
  astLines,
  type CheckedRead,
  checkRead,
  createFunctionRegistry,
  type EngineFunction,
  functionAllowed,
  isRefusal,
  outputFormat,
  parseExplainAst,
  type ReadPolicy,
  type Refusal,
} from '../../../src/admin/clickhouse-sql.js';

const fn = (name: string, aggregate = false, caseInsensitive = false, alias = ''): EngineFunction => ({
  name,
  is_aggregate: aggregate ? 1 : 0,
  case_insensitive: caseInsensitive ? 1 : 0,
  alias_to: alias,
});
const registry = createFunctionRegistry([
  fn('count', true, true),
  fn('sum', true, true),
  fn('quantile', true),
  fn('median', true, false, 'quantile'),
  fn('uniqExact', true),
  fn('file'),
  fn('dateDiff'),
  fn('DATE_DIFF', false, false, 'dateDiff'),
  fn('equals'),
  fn('greaterOrEquals'),
  fn('and'),
  fn('in'),
  fn('tuple'),
  fn('plus'),
  fn('multiIf'),
  fn('toDateTime'),
  fn('version', false, true),
  fn('getSetting'),
  fn('dictGet'),
]);
const policy = (over: Partial<ReadPolicy> = {}): ReadPolicy => ({
  database: 'vigil',
  registry,
  knownTables: new Set(['events', 'vault', 'admin_audit']),
  ...over,
});

/** A dump as the engine prints it: one node a line, one space of indent per level. */
const tree = (dump: string): AstNode => {
  const t = parseExplainAst(dump.split('\n').filter((l) => l.trim()));
  if (isRefusal(t)) throw new Error(`unparsed: ${t.message}`);
  return t;
};
const admit = (dump: string, over?: Partial<ReadPolicy>): CheckedRead => {
  const r = checkRead(tree(dump), policy(over));
  if (isRefusal(r)) throw new Error(`refused: ${r.message}`);
  return r;
};
const refuse = (dump: string, over?: Partial<ReadPolicy>): Refusal => {
  const r = checkRead(tree(dump), policy(over));
  if (!isRefusal(r)) throw new Error('admitted');
  return r;
};

/**
 * SELECT <list> FROM <table> WHERE <where> as the engine's tree. Each list item and the table is one
 * node, its own lines joined by \n and indented relative to it.
 */
const select = (list: string[], table: string, where?: string[]) =>
  [
    'SelectWithUnionQuery (children 1)',
    ' ExpressionList (children 1)',
    `  SelectQuery (children ${where ? 3 : 2})`,
    `   ExpressionList (children ${list.length})`,
    ...list.flatMap((node) => node.split('\n').map((l) => `    ${l}`)),
    '   TablesInSelectQuery (children 1)',
    '    TablesInSelectQueryElement (children 1)',
    '     TableExpression (children 1)',
    ...table.split('\n').map((l) => `      ${l}`),
    ...(where ?? []).map((l) => `   ${l}`),
  ].join('\n');

describe('parseExplainAst', () => {
  it('builds the tree from indentation and the declared child counts, dropping aliases', () => {
    const t = tree(
      select(['Identifier tenant (alias t)', 'Literal UInt64_1'], 'TableIdentifier events (alias e)'),
    );
    expect(t.children[0]!.children[0]!.children[0]!.children.map((c) => [c.kind, c.payload])).toEqual([
      ['Identifier', 'tenant'],
      ['Literal', 'UInt64_1'],
    ]);
    expect(astLines(t)).toContain('      TableIdentifier events');
  });

  it('refuses a name or alias with a line break (the engine prints it as is, as a second line)', () => {
    // SELECT 'a\nb' AS `x\n Function file` — what the engine printed.
    const lines = [
      'SelectWithUnionQuery (children 1)',
      ' ExpressionList (children 1)',
      '  SelectQuery (children 1)',
      '   ExpressionList (children 1)',
      "    Literal 'a\\nb' (alias x",
      ' Function file)',
    ];
    expect(parseExplainAst(lines)).toMatchObject({ status: 403, reason: 'ast' });
  });

  it.each([
    ['a child count that does not match', ['SelectWithUnionQuery (children 2)', ' ExpressionList']],
    ['an indent jump', ['SelectWithUnionQuery (children 1)', '   ExpressionList']],
    ['two roots', ['ExpressionList', 'ExpressionList']],
    ['a line that is not a node', ['SelectWithUnionQuery (children 1)', ' (x']],
    ['nothing', []],
  ])('refuses %s', (_what, lines) => {
    expect(parseExplainAst(lines)).toMatchObject({ reason: 'ast' });
  });
});

describe('createFunctionRegistry', () => {
  it('resolves as the engine does: exact, case-insensitive, alias, aggregate combinators', () => {
    expect(registry.resolve('count')).toEqual({ canonical: 'count', aggregate: true });
    expect(registry.resolve('COUNT')).toEqual({ canonical: 'count', aggregate: true });
    expect(registry.resolve('DATE_DIFF')).toEqual({ canonical: 'dateDiff', aggregate: false });
    expect(registry.resolve('median')).toEqual({ canonical: 'quantile', aggregate: true });
    expect(registry.resolve('countIf')).toEqual({ canonical: 'countIf', aggregate: true });
    expect(registry.resolve('uniqExactIf')).toEqual({ canonical: 'uniqExactIf', aggregate: true });
    expect(registry.resolve('SUMOrNull')).toEqual({ canonical: 'sumOrNull', aggregate: true });
    // Case matters where the engine says it does; combinators only follow aggregates.
    expect(registry.resolve('FILE')).toBeUndefined();
    expect(registry.resolve('fileIf')).toBeUndefined();
    expect(registry.resolve('multiIf')).toEqual({ canonical: 'multiIf', aggregate: false });
  });

  it('treats a name two functions answer to case-insensitively as unknown', () => {
    const r = createFunctionRegistry([fn('abc', false, true), fn('ABC', false, true, 'file')]);
    expect(r.resolve('Abc')).toBeUndefined();
  });

  it('allows by canonical name, aggregates with the listed combinators only', () => {
    expect(functionAllowed({ canonical: 'dateDiff', aggregate: false })).toBe(true);
    expect(functionAllowed({ canonical: 'file', aggregate: false })).toBe(false);
    expect(functionAllowed({ canonical: 'uniqExactIf', aggregate: true })).toBe(true);
    expect(functionAllowed({ canonical: 'sumState', aggregate: true })).toBe(false);
    expect(functionAllowed({ canonical: 'getSetting', aggregate: false })).toBe(false);
  });

  it('lists no function that reaches files, the network, programs or the server', () => {
    const outside = [
      'file',
      'filesystemAvailable',
      'url',
      's3',
      'remote',
      'executable',
      'dictGet',
      'joinGet',
      'getSetting',
      'getMacro',
      'hostName',
      'FQDN',
      'currentUser',
      'catboostEvaluate',
      'chdb',
      'formatQuery',
      'aiGenerate',
      'sleep',
      'throwIf',
      'addressToLine',
    ];
    for (const name of outside) {
      expect(SCALAR_FUNCTIONS.has(name), name).toBe(false);
      expect(AGGREGATE_FUNCTIONS.has(name), name).toBe(false);
    }
  });
});

describe('checkRead', () => {
  it('admits a dashboard-shaped SELECT and names the tables it reads', () => {
    const r = admit(
      select(
        [
          'Function count (alias n) (children 1)\n ExpressionList',
          'Function median (children 1)\n ExpressionList (children 1)\n  Identifier latency_ms',
        ],
        'TableIdentifier vigil.events',
        [
          'Function in (children 1)',
          ' ExpressionList (children 2)',
          '  Identifier operation',
          "  Literal Tuple_('search', 'fetch')",
        ],
      ),
    );
    expect([...r.tables]).toEqual(['events']);
    expect(r.format).toBeUndefined();
  });

  it('takes the FORMAT from the top-level statement, in its allowed spelling', () => {
    const dump = `${select(['Literal UInt64_1'], 'TableIdentifier events')}\n Identifier jsoneachrow`;
    expect(admit(dump.replace('(children 1)', '(children 2)')).format).toBe('JSONEachRow');
    expect(outputFormat('Template')).toBeUndefined();
  });

  it.each([
    [
      'SETTINGS on the statement',
      [
        'SelectWithUnionQuery (children 2)',
        ' ExpressionList (children 1)',
        '  SelectQuery (children 1)',
        '   ExpressionList (children 1)',
        '    Literal UInt64_1',
        ' Set',
      ],
      'settings',
    ],
    [
      'SETTINGS in a subquery',
      [
        'SelectWithUnionQuery (children 1)',
        ' ExpressionList (children 1)',
        '  SelectQuery (children 2)',
        '   ExpressionList (children 1)',
        '    Literal UInt64_1',
        '   Set',
      ],
      'settings',
    ],
    [
      'INTO OUTFILE',
      [
        'SelectWithUnionQuery (children 3)',
        ' ExpressionList (children 1)',
        '  SelectQuery (children 1)',
        '   ExpressionList (children 1)',
        "    Literal 'x'",
        "  Literal '/any/path'".slice(1),
        ' Identifier TSV',
      ],
      'into_outfile',
    ],
    [
      'a format that reads files',
      [...select(['Literal UInt64_1'], 'TableIdentifier events').split('\n'), ' Identifier Template'].map(
        (l, i) => (i === 0 ? 'SelectWithUnionQuery (children 2)' : l),
      ),
      'format',
    ],
    ['EXPLAIN', ['Explain EXPLAIN AST (children 1)', ' SelectWithUnionQuery'], 'statement'],
    ['an INSERT', ['InsertQuery'], 'statement'],
  ])('refuses %s', (_what, lines, reason) => {
    expect(refuse(lines.join('\n')).reason).toBe(reason);
  });

  it.each([
    ['vault', 'TableIdentifier vault', 'table', /table vault is not readable/],
    ['admin_audit (qualified)', 'TableIdentifier vigil.admin_audit', 'table', /table admin_audit/],
    ['a system table', 'TableIdentifier system.processes', 'table', /system tables/],
    ['another database', 'TableIdentifier other.events', 'table', /other databases/],
    ['an unknown name, without echoing it', 'TableIdentifier alice_example_com', 'table', /^this table/],
    [
      'a table function',
      "Function filesystem (children 1)\n ExpressionList (children 1)\n  Literal '/keys'",
      'table_function',
      /table functions/,
    ],
  ])('refuses reading %s', (_what, table, reason, message) => {
    const r = refuse(select(['Asterisk'], table));
    expect(r.reason).toBe(reason);
    expect(r.message).toMatch(message);
  });

  it('refuses functions outside the allow-list, naming only names the engine knows', () => {
    const call = (name: string) =>
      select(
        [`Function ${name} (children 1)\n ExpressionList (children 1)\n  Literal '/etc/hostname'`],
        'TableIdentifier events',
      );
    expect(refuse(call('file'))).toMatchObject({
      reason: 'function',
      message: 'function file is not allowed through this interface',
    });
    expect(refuse(call('dictGet')).reason).toBe('function');
    expect(refuse(call('alice_example')).message).toBe('this function is not allowed through this interface');
  });

  it('refuses IN <table>, which reads the table', () => {
    const r = refuse(
      select(['Asterisk'], 'TableIdentifier events', [
        'Function in (children 1)',
        ' ExpressionList (children 2)',
        '  Identifier tenant',
        '  Identifier vault',
      ]),
    );
    expect(r.reason).toBe('in_table');
  });

  it('refuses COLUMNS … APPLY(f), which names a function the tree does not show', () => {
    const r = refuse(
      select(
        ['Asterisk (children 1)\n ColumnsTransformerList (children 1)\n  ColumnsApplyTransformer'],
        'TableIdentifier events',
      ),
    );
    expect(r.reason).toBe('node');
  });

  it('limits a tenant-scoped caller to tables with a tenant column', () => {
    expect(
      admit(select(['Asterisk'], 'TableIdentifier events'), { tenants: ['acme'] }).tables.has('events'),
    ).toBe(true);
    expect(refuse(select(['Asterisk'], 'TableIdentifier dead_letters'), { tenants: ['acme'] }).reason).toBe(
      'tenant_scope',
    );
    expect(admit(select(['Asterisk'], 'TableIdentifier dead_letters')).tables.has('dead_letters')).toBe(true);
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
