// The read-only policy of the ClickHouse HTTP interface, as pure functions over the engine's own
// parse of a query. Nothing here reads SQL text: the engine parses it (`EXPLAIN AST`, see
// ./clickhouse-gate.ts) and this module reads the engine's tree, one node a line, and admits it
// by allow-list — node kinds, functions (./clickhouse-functions.ts, resolved through the engine's
// registry), tables, one output format — or says why not. Whatever the engine reads as
// whitespace, comments or quoting is already gone from the tree; whatever it reads as a function
// call, a table, a SETTINGS clause or an INTO OUTFILE is a node here.

import {
  AGGREGATE_COMBINATORS,
  AGGREGATE_FUNCTIONS,
  IN_FUNCTIONS,
  SCALAR_FUNCTIONS,
  SYNTAX_FUNCTIONS,
} from './clickhouse-functions.js';

/** A refusal, shaped like a ClickHouse exception (code and name) with the HTTP status to answer. */
export interface Refusal {
  readonly status: 400 | 403;
  readonly code: number;
  readonly type: string;
  readonly message: string;
  /** A short reason for the audit record: a code, never text taken from the query. */
  readonly reason: string;
}

export function isRefusal(x: unknown): x is Refusal {
  return typeof x === 'object' && x !== null && 'status' in x && 'reason' in x;
}

const READONLY = (reason: string, message: string): Refusal => ({
  status: 403,
  code: 164,
  type: 'READONLY',
  message,
  reason,
});
const DENIED = (reason: string, message: string): Refusal => ({
  status: 403,
  code: 497,
  type: 'ACCESS_DENIED',
  message,
  reason,
});
export const SYNTAX = (message: string): Refusal => ({
  status: 400,
  code: 62,
  type: 'SYNTAX_ERROR',
  message,
  reason: 'syntax',
});

// ---------------------------------------------------------------------------------------------
// The engine's tree

export interface AstNode {
  /** Node kind as the engine names it: SelectQuery, Function, TableIdentifier, Literal … */
  readonly kind: string;
  /** What follows the kind on its line: a function or table name, a literal, an identifier. */
  readonly payload: string;
  readonly children: readonly AstNode[];
}

/** One line of `EXPLAIN AST`: indent, kind, optional payload, `(alias …)`, `(children N)`. */
const LINE = /^( *)([A-Za-z_][A-Za-z0-9_:]*)(.*)$/;
const CHILDREN = / \(children (\d+)\)$/;
const ALIAS = / \(alias ([^()]*)\)$/;

/**
 * The tree of `EXPLAIN AST` output lines. Strict: every line must have the engine's shape, each
 * node exactly as many children (one indent deeper) as its line declares, one root. A name or
 * alias holding a line break, which the engine prints as is, breaks one of these and is refused.
 */
export function parseExplainAst(lines: readonly string[]): AstNode | Refusal {
  const bad = SYNTAX('the engine parsed this query into a tree this interface does not read');
  const malformed = { ...bad, status: 403 as const, reason: 'ast' };
  interface Parsed {
    depth: number;
    kind: string;
    payload: string;
    declared: number;
  }
  const parsed: Parsed[] = [];
  for (const line of lines) {
    const m = LINE.exec(line);
    if (!m) return malformed;
    let rest = m[3]!;
    let declared = 0;
    const children = CHILDREN.exec(rest);
    if (children) {
      declared = Number(children[1]);
      rest = rest.slice(0, children.index);
    }
    const alias = ALIAS.exec(rest);
    if (alias) rest = rest.slice(0, alias.index);
    if (rest !== '' && !rest.startsWith(' ')) return malformed;
    parsed.push({ depth: m[1]!.length, kind: m[2]!, payload: rest.slice(1), declared });
  }
  let i = 0;
  const build = (depth: number): AstNode | undefined => {
    const p = parsed[i];
    if (!p || p.depth !== depth) return undefined;
    i++;
    const children: AstNode[] = [];
    for (let k = 0; k < p.declared; k++) {
      const child = build(depth + 1);
      if (!child) return undefined;
      children.push(child);
    }
    return { kind: p.kind, payload: p.payload, children };
  };
  const root = build(0);
  if (!root || i !== parsed.length) return malformed;
  return root;
}

/** The tree back as lines (for comparing two parses of the same statement). */
export function astLines(node: AstNode, depth = 0, out: string[] = []): string[] {
  out.push(`${' '.repeat(depth)}${node.kind}${node.payload ? ` ${node.payload}` : ''}`);
  for (const c of node.children) astLines(c, depth + 1, out);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Functions, as the engine resolves names

/** A row of system.functions. */
export interface EngineFunction {
  readonly name: string;
  readonly is_aggregate: number | boolean;
  readonly case_insensitive: number | boolean;
  readonly alias_to: string;
}

export interface FunctionRegistry {
  /** The canonical name a call resolves to and whether it is an aggregate; undefined if unknown. */
  resolve(name: string): { canonical: string; aggregate: boolean } | undefined;
  /** Whether the engine knows this name (to decide if an error may name it). */
  knows(name: string): boolean;
}

/**
 * Name resolution as the engine does it: an exact name, else a case-insensitive one, an alias
 * taken to what it aliases; else an aggregate with a combinator suffix. A name that resolves to
 * two different functions case-insensitively is treated as unknown (refused), never guessed.
 */
export function createFunctionRegistry(rows: readonly EngineFunction[]): FunctionRegistry {
  const exact = new Map<string, EngineFunction>();
  const folded = new Map<string, EngineFunction[]>();
  for (const r of rows) {
    exact.set(r.name, r);
    if (r.case_insensitive) {
      const list = folded.get(r.name.toLowerCase()) ?? [];
      list.push(r);
      folded.set(r.name.toLowerCase(), list);
    }
  }
  const canonicalOf = (r: EngineFunction) => {
    const target = r.alias_to ? exact.get(r.alias_to) : undefined;
    return { canonical: r.alias_to || r.name, aggregate: Boolean((target ?? r).is_aggregate) };
  };
  const direct = (name: string) => {
    const r = exact.get(name);
    if (r) return canonicalOf(r);
    const candidates = (folded.get(name.toLowerCase()) ?? []).map(canonicalOf);
    const names = new Set(candidates.map((c) => c.canonical));
    return names.size === 1 ? candidates[0] : undefined;
  };
  return {
    resolve(name) {
      const found = direct(name);
      if (found) return found;
      for (const suffix of AGGREGATE_COMBINATORS) {
        if (!name.endsWith(suffix) || name.length === suffix.length) continue;
        const base = direct(name.slice(0, -suffix.length));
        if (base?.aggregate) return { canonical: `${base.canonical}${suffix}`, aggregate: true };
      }
      return undefined;
    },
    knows: (name) => direct(name) !== undefined,
  };
}

/** Whether a resolved function may be called through this interface. */
export function functionAllowed(resolved: { canonical: string; aggregate: boolean }): boolean {
  if (!resolved.aggregate) return SCALAR_FUNCTIONS.has(resolved.canonical);
  if (AGGREGATE_FUNCTIONS.has(resolved.canonical)) return true;
  const suffix = AGGREGATE_COMBINATORS.find((s) => resolved.canonical.endsWith(s));
  return suffix !== undefined && AGGREGATE_FUNCTIONS.has(resolved.canonical.slice(0, -suffix.length));
}

// ---------------------------------------------------------------------------------------------
// Tables and formats

export interface TablePolicy {
  /** Whether the table has a `tenant` column (a caller limited to some tenants may read it). */
  readonly tenantColumn: boolean;
}

/**
 * The tables and views the dashboards read (dashboards/*.json), in the store's database. Not here,
 * on purpose: vault (sealed identifiers), admin_audit, detector_state, audit_chain,
 * finding_feedback, schema_migrations, the materialized view's inner table, and every other
 * database (system.*, information_schema).
 */
export const READABLE_TABLES: ReadonlyMap<string, TablePolicy> = new Map([
  ['events', { tenantColumn: true }],
  ['events_1m', { tenantColumn: true }],
  ['findings', { tenantColumn: true }],
  ['incidents', { tenantColumn: true }],
  ['actions', { tenantColumn: true }],
  // Pipeline health: not per tenant, so not readable by a caller limited to some tenants.
  ['dead_letters', { tenantColumn: false }],
  ['export_checkpoints', { tenantColumn: false }],
  // Per-source figures and unused attribute key names (never values); not per tenant either.
  ['source_stats', { tenantColumn: false }],
]);

/**
 * Output formats: Native for clickhouse-go (the Grafana plugin's driver), the JSON, TSV and CSV
 * families @clickhouse/client and people use. Each name maps to the spelling sent to the engine.
 * No format that reads a schema or template file (Template, Protobuf, CapnProto, Regexp …).
 */
export const OUTPUT_FORMATS: ReadonlyMap<string, string> = new Map(
  [
    'Native',
    'JSON',
    'JSONCompact',
    'JSONEachRow',
    'JSONStringsEachRow',
    'JSONCompactEachRow',
    'JSONCompactEachRowWithNames',
    'JSONCompactEachRowWithNamesAndTypes',
    'TabSeparated',
    'TabSeparatedRaw',
    'TabSeparatedWithNames',
    'TabSeparatedWithNamesAndTypes',
    'TSV',
    'TSVRaw',
    'TSVWithNames',
    'TSVWithNamesAndTypes',
    'CSV',
    'CSVWithNames',
    'CSVWithNamesAndTypes',
  ].map((f) => [f.toLowerCase(), f]),
);

/** The allowed spelling of a format name (format names are case-insensitive), or undefined. */
export function outputFormat(name: string): string | undefined {
  return OUTPUT_FORMATS.get(name.toLowerCase());
}

// ---------------------------------------------------------------------------------------------
// The walk

/** Node kinds a read may contain. Everything else (Set, Explain, ColumnsApplyTransformer …) is refused. */
const STRUCTURAL_KINDS = new Set([
  'SelectWithUnionQuery',
  'SelectIntersectExceptQuery',
  'SelectQuery',
  'ExpressionList',
  'TablesInSelectQuery',
  'TablesInSelectQueryElement',
  'TableExpression',
  'TableJoin',
  'ArrayJoin',
  'Subquery',
  'WithElement',
  'OrderByElement',
  'WindowDefinition',
  'WindowListElement',
  'Asterisk',
  'QualifiedAsterisk',
]);

const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface ReadPolicy {
  /** The store's database: a table is named bare or as `<database>.<table>`. */
  readonly database: string;
  readonly registry: FunctionRegistry;
  /** The tables of the store's database (an error may name one of these, nothing else). */
  readonly knownTables: ReadonlySet<string>;
  /** The tenants the caller may read; undefined: all. */
  readonly tenants?: readonly string[];
}

export interface CheckedRead {
  /** The FORMAT named in the statement, in its allowed spelling, if any. */
  readonly format?: string;
  /** The statement's tree without its FORMAT (what the gate compares after re-parsing). */
  readonly body: AstNode;
  /** The tables the statement reads. */
  readonly tables: ReadonlySet<string>;
}

/** Admits the tree of one SELECT statement, or says why not. */
export function checkRead(root: AstNode, policy: ReadPolicy): CheckedRead | Refusal {
  if (root.kind !== 'SelectWithUnionQuery')
    return READONLY(
      'statement',
      'Cannot execute query in readonly mode: only SELECT statements are allowed through this interface',
    );
  // The top-level statement: its selects, then the output options the parser attached —
  // INTO OUTFILE (a Literal), COMPRESSION (Literals), SETTINGS (Set), FORMAT (Identifier).
  const [selects, ...options] = root.children;
  if (selects?.kind !== 'ExpressionList') return parseRefusal();
  let format: string | undefined;
  for (const o of options) {
    if (o.kind === 'Set') return settingsRefusal();
    if (o.kind === 'Identifier' && format === undefined) {
      const allowed = PLAIN_NAME.test(o.payload) ? outputFormat(o.payload) : undefined;
      if (!allowed)
        return DENIED('format', 'this FORMAT is not allowed here (Native, JSON*, TabSeparated*, CSV*)');
      format = allowed;
      continue;
    }
    if (o.kind === 'Literal') return DENIED('into_outfile', 'INTO OUTFILE is not allowed');
    return parseRefusal();
  }
  const tables = new Set<string>();
  const refusal = walk(selects, undefined, policy, tables);
  if (refusal) return refusal;
  return { format, body: { ...root, children: [selects] }, tables };
}

function parseRefusal(): Refusal {
  return DENIED('ast', 'the engine parsed this query into something other than one plain SELECT');
}

function settingsRefusal(): Refusal {
  return READONLY(
    'settings',
    'Cannot modify settings in readonly mode: SETTINGS clauses are not allowed through this interface',
  );
}

function walk(
  node: AstNode,
  parent: AstNode | undefined,
  policy: ReadPolicy,
  tables: Set<string>,
): Refusal | undefined {
  switch (node.kind) {
    case 'Set':
      return settingsRefusal();
    case 'Literal':
      if (node.children.length) return parseRefusal();
      return undefined;
    case 'Identifier':
      // Column names. A name with parentheses or nothing at all is not one the engine would print
      // for a column this interface reads.
      if (node.children.length || !node.payload || /[()]/.test(node.payload)) return parseRefusal();
      return undefined;
    case 'TableIdentifier':
      return checkTable(node.payload, policy, tables);
    case 'Function':
      return checkFunction(node, parent, policy, tables);
    case 'SelectWithUnionQuery':
      // A nested statement (a subquery) has no output options.
      if (node.children.length !== 1) return parseRefusal();
      break;
    case 'TableExpression':
      // A table or a subquery; a Function here is a table function (file, url, remote, merge …).
      for (const c of node.children) {
        if (c.kind === 'Function')
          return DENIED(
            'table_function',
            'table functions are not allowed through this interface: read a table or a subquery',
          );
        if (c.kind !== 'TableIdentifier' && c.kind !== 'Subquery') return nodeRefusal(c);
      }
      break;
    default:
      if (!STRUCTURAL_KINDS.has(node.kind)) return nodeRefusal(node);
      if (node.payload) return parseRefusal();
  }
  for (const c of node.children) {
    const r = walk(c, node, policy, tables);
    if (r) return r;
  }
  return undefined;
}

function nodeRefusal(node: AstNode): Refusal {
  if (node.kind === 'Set') return settingsRefusal();
  if (node.kind.startsWith('Columns'))
    return DENIED('node', 'COLUMNS matchers and APPLY / EXCEPT / REPLACE are not allowed here');
  if (node.kind === 'Explain' || node.kind.startsWith('Show') || node.kind.startsWith('Describe'))
    return READONLY('statement', 'only SELECT statements are allowed through this interface');
  return DENIED('node', `${PLAIN_NAME.test(node.kind) ? node.kind : 'this construct'} is not allowed here`);
}

function checkTable(payload: string, policy: ReadPolicy, tables: Set<string>): Refusal | undefined {
  const m = /^(?:([A-Za-z_][A-Za-z0-9_]*)\.)?([A-Za-z_][A-Za-z0-9_]*)$/.exec(payload);
  const database = m?.[1];
  const name = m?.[2];
  if (!name || (database !== undefined && database !== policy.database)) {
    if (database === 'system' || database?.toLowerCase() === 'information_schema')
      return DENIED('table', 'system tables are not readable through this interface');
    return DENIED('table', 'tables of other databases are not readable through this interface');
  }
  const table = READABLE_TABLES.get(name);
  if (!table) {
    const named = policy.knownTables.has(name) ? `table ${name}` : 'this table';
    return DENIED(
      'table',
      `${named} is not readable through this interface (readable: ${[...READABLE_TABLES.keys()].join(', ')}; a WITH … AS (subquery) name is not read as a table here)`,
    );
  }
  if (policy.tenants !== undefined && !table.tenantColumn)
    return DENIED(
      'tenant_scope',
      `table ${name} is not per tenant: not readable with a tenant-limited token`,
    );
  tables.add(name);
  return undefined;
}

function checkFunction(
  node: AstNode,
  parent: AstNode | undefined,
  policy: ReadPolicy,
  tables: Set<string>,
): Refusal | undefined {
  const name = node.payload;
  if (parent?.kind === 'TableExpression')
    return DENIED('table_function', 'table functions are not allowed through this interface');
  const named = PLAIN_NAME.test(name) && (policy.registry.knows(name) || SYNTAX_FUNCTIONS.has(name));
  const refused = () =>
    DENIED(
      'function',
      named
        ? `function ${name} is not allowed through this interface`
        : 'this function is not allowed through this interface',
    );
  if (!PLAIN_NAME.test(name)) return refused();
  if (!SYNTAX_FUNCTIONS.has(name)) {
    const resolved = policy.registry.resolve(name);
    if (!resolved || !functionAllowed(resolved)) return refused();
    // `x IN name` reads the table `name`: the right-hand side must be values or a subquery.
    if (IN_FUNCTIONS.has(resolved.canonical)) {
      const rhs = node.children[0]?.children[1];
      if (!rhs || rhs.kind === 'Identifier' || rhs.kind === 'TableIdentifier')
        return DENIED('in_table', 'IN <table> is not allowed here: use IN (SELECT …) over a readable table');
    }
  }
  for (const c of node.children) {
    const r = walk(c, node, policy, tables);
    if (r) return r;
  }
  return undefined;
}
