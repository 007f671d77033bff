// Admission of a query to the ClickHouse HTTP interface, with the engine as the authority on what
// the text means. The embedded engine runs every statement of a text it is given, so no text from
// a caller is ever spliced into another statement before the engine has shown it to be exactly one:
//
//   1. `formatQuerySingleLine({q:String})`, the text bound as a parameter: the engine parses it
//      (one statement or an error) and prints its canonical form; formatting that form again must
//      give it back unchanged.
//   2. `EXPLAIN AST <canonical>`, with the caller's query parameters bound as they will be at run
//      time: the engine's tree, admitted by ./clickhouse-sql.ts (one SELECT; allowed node kinds,
//      functions and tables; no SETTINGS, no INTO OUTFILE, no table function; an allowed FORMAT).
//   3. The statement to run is the canonical text without its FORMAT, then `FORMAT <allowed>` and
//      this interface's own SETTINGS (read-only, limits, the caller's tenant filter); it goes
//      through 1 and 2 again, and its tree must be the checked one plus exactly those options.
//
// What runs is that re-checked canonical text. No query text can change a setting (a SETTINGS
// node anywhere is refused), and the settings that run are the statement's own SETTINGS, never a
// session-wide SET (the store client sends a statement as it is, ../store/store-client.ts).
import type { StoreClient } from '../store/index.js';
import {
  type AstNode,
  astLines,
  type CheckedRead,
  checkRead,
  createFunctionRegistry,
  type EngineFunction,
  type FunctionRegistry,
  isRefusal,
  outputFormat,
  parseExplainAst,
  READABLE_TABLES,
  type Refusal,
  SYNTAX,
} from './clickhouse-sql.js';

/** Limits every query runs under. A caller may lower the numeric ones (URL settings), never raise them. */
export interface QueryLimits {
  /** Seconds; the engine stops the query after this. */
  readonly max_execution_time: number;
  readonly max_result_rows: number;
  readonly max_result_bytes: number;
  readonly max_memory_usage: number;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = Object.freeze({
  max_execution_time: 60,
  // The answer is held in memory before it is sent (and re-framed for Native): bounded.
  max_result_rows: 1_000_000,
  max_result_bytes: 128 * 1024 * 1024,
  // Per query, inside the vigil process that also ingests: well below what the host has.
  max_memory_usage: 1024 * 1024 * 1024,
});

/** Tenant names as the collectors accept them; anything else cannot be a tenant and is refused. */
const TENANT = /^[A-Za-z0-9_.:-]{1,128}$/;

export interface AdmitRequest {
  readonly sql: string;
  /** `{name:Type}` parameter values, bound by the engine (never spliced). */
  readonly params?: Readonly<Record<string, string>>;
  /** The format when the statement names none (the URL's default_format). */
  readonly defaultFormat?: string;
  /** The tenants the caller may read; undefined: all. */
  readonly tenants?: readonly string[];
  /** Lower limits the caller asked for. */
  readonly limits?: Partial<QueryLimits> & { readonly limit?: number };
}

export interface Admitted {
  /** The statement to run: engine-canonical, checked, with its FORMAT and SETTINGS. */
  readonly query: string;
  readonly format: string;
  readonly maxExecutionSeconds: number;
  readonly tables: ReadonlySet<string>;
}

export interface ReadOnlyGate {
  admit(req: AdmitRequest): Promise<Admitted | Refusal>;
}

export interface ReadOnlyGateDeps {
  readonly client: StoreClient;
  /** The store's database (the session's current database). */
  readonly database: string;
  readonly limits?: QueryLimits;
}

/** A text SQL string literal (backslash and quote escaped), for values this module made itself. */
const sqlString = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/**
 * Rows of a statement as arrays. `exec` sends the text as it is: EXPLAIN AST of a statement that
 * carries its own FORMAT and SETTINGS cannot have another FORMAT appended.
 */
async function rows(
  client: StoreClient,
  query: string,
  params?: Readonly<Record<string, string>>,
): Promise<unknown[][]> {
  const { body } = await client.exec(query, { format: 'JSONCompactEachRow', params });
  return body
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as unknown[]);
}

/**
 * An engine error while parsing (steps 1 and 2) as a refusal: the engine's answer to the text, with
 * its code and message (the caller's own text, which the engine may quote). An error without an
 * engine code is not about the text and is rethrown.
 */
function engineRefusal(err: unknown): Refusal {
  const e = err as { type?: string; code?: string | number; message?: string; cause?: unknown };
  // The client names the engine's code when it recognises the message; a message the engine cut
  // short (at a NUL in the text) keeps it only on the embedded connection's own error.
  const code =
    Number(e.code) || Number((e.cause as { clickhouseCode?: unknown } | undefined)?.clickhouseCode);
  if (!Number.isInteger(code) || code <= 0) throw err;
  const message = String(e.message ?? '')
    // The engine appends the scope it was evaluating: our own wrapper, not the caller's text.
    .replace(/\s*:?\s*In scope [\s\S]*$/, '')
    .replace(/\.\s*$/, '');
  if (code === 62) return SYNTAX(message || 'Syntax error');
  const type = e.type && /^[A-Z_]{1,64}$/.test(e.type) ? e.type : 'BAD_ARGUMENTS';
  return { status: 400, code, type, message, reason: code === 456 ? 'query_params' : 'engine_parse' };
}

export function createReadOnlyGate(deps: ReadOnlyGateDeps): ReadOnlyGate {
  const limits = deps.limits ?? DEFAULT_QUERY_LIMITS;
  let registry: Promise<{ functions: FunctionRegistry; tables: Set<string> }> | undefined;
  const engineFacts = () => {
    registry ??= (async () => {
      const fns = await rows(
        deps.client,
        'SELECT name, is_aggregate, case_insensitive, alias_to FROM system.functions',
      );
      const tables = await rows(deps.client, 'SELECT name FROM system.tables WHERE database = {db:String}', {
        db: deps.database,
      });
      return {
        functions: createFunctionRegistry(
          fns.map(([name, is_aggregate, case_insensitive, alias_to]) => ({
            name,
            is_aggregate,
            case_insensitive,
            alias_to,
          })) as EngineFunction[],
        ),
        tables: new Set(tables.map(([n]) => String(n))),
      };
    })();
    registry.catch(() => {
      registry = undefined;
    });
    return registry;
  };

  /** Steps 1 and 2: the engine's canonical text of `sql` and its tree. */
  const parse = async (
    sql: string,
    params: Readonly<Record<string, string>> | undefined,
  ): Promise<{ canonical: string; tree: AstNode } | Refusal> => {
    let canonical: string;
    try {
      const [[c, again] = []] = await rows(
        deps.client,
        'SELECT formatQuerySingleLine({q:String}) AS c, formatQuerySingleLine(c)',
        { q: sql },
      );
      if (typeof c !== 'string' || c !== again) return SYNTAX('the engine does not format this query stably');
      canonical = c;
    } catch (err) {
      return engineRefusal(err);
    }
    let lines: unknown[][];
    try {
      // `canonical` is one statement the engine printed itself (step 1): safe to follow EXPLAIN AST.
      lines = await rows(deps.client, `EXPLAIN AST ${canonical}`, params);
    } catch (err) {
      return engineRefusal(err);
    }
    const tree = parseExplainAst(lines.map(([l]) => String(l)));
    return isRefusal(tree) ? tree : { canonical, tree };
  };

  return {
    async admit(req) {
      if (!req.sql.trim()) return SYNTAX('Empty query');
      if (req.tenants?.some((t) => !TENANT.test(t)))
        throw new Error('tenants: each must be a tenant name ([A-Za-z0-9_.:-], 1–128 characters)');
      const facts = await engineFacts();
      const policy = {
        database: deps.database,
        registry: facts.functions,
        knownTables: facts.tables,
        tenants: req.tenants,
      };

      const first = await parse(req.sql, req.params);
      if (isRefusal(first)) return first;
      const checked = checkRead(first.tree, policy);
      if (isRefusal(checked)) return checked;

      const format =
        checked.format ??
        (req.defaultFormat === undefined ? 'TabSeparated' : outputFormat(req.defaultFormat));
      if (!format)
        return {
          status: 403,
          code: 497,
          type: 'ACCESS_DENIED',
          message: 'this default_format is not allowed here (Native, JSON*, TabSeparated*, CSV*)',
          reason: 'format',
        };
      const body = withoutFormat(first.canonical, first.tree);
      if (body === undefined) return SYNTAX('the engine does not print this query as expected');

      const settings = querySettings(limits, req, checked, deps.database);
      const statement = `${body} FORMAT ${format} SETTINGS ${settings.text}`;
      // Step 3: the statement to run, parsed and checked again.
      const second = await parse(statement, req.params);
      if (isRefusal(second)) return second;
      if (!sameRead(second.tree, checked, format))
        return {
          status: 403,
          code: 497,
          type: 'ACCESS_DENIED',
          message: 'the statement to run does not parse as the checked one',
          reason: 'recheck',
        };
      return {
        query: second.canonical,
        format,
        maxExecutionSeconds: settings.maxExecutionSeconds,
        tables: checked.tables,
      };
    },
  };
}

/** The canonical text without its trailing `FORMAT <name>` (as the engine printed it), if it has one. */
function withoutFormat(canonical: string, tree: AstNode): string | undefined {
  const formatNode = tree.children.find((c, i) => i > 0 && c.kind === 'Identifier');
  if (!formatNode) return canonical;
  const suffix = ` FORMAT ${formatNode.payload}`;
  return canonical.endsWith(suffix) ? canonical.slice(0, -suffix.length) : undefined;
}

/** The re-parsed statement: the checked selects, then exactly one Set and the FORMAT chosen. */
function sameRead(tree: AstNode, checked: CheckedRead, format: string): boolean {
  if (tree.kind !== 'SelectWithUnionQuery' || tree.children.length !== 3) return false;
  const [selects, set, fmt] = tree.children;
  const expected = checked.body.children[0]!;
  return (
    set?.kind === 'Set' &&
    set.children.length === 0 &&
    fmt?.kind === 'Identifier' &&
    fmt.payload === format &&
    astLines(selects!).join('\n') === astLines(expected).join('\n')
  );
}

/** A caller's lower limit, or ours. */
function lower(ours: number, theirs: number | undefined): number {
  return theirs !== undefined && Number.isInteger(theirs) && theirs > 0 ? Math.min(ours, theirs) : ours;
}

function querySettings(
  limits: QueryLimits,
  req: AdmitRequest,
  checked: CheckedRead,
  database: string,
): { text: string; maxExecutionSeconds: number } {
  const maxExecutionSeconds = lower(limits.max_execution_time, req.limits?.max_execution_time);
  const pairs: string[] = [
    `max_execution_time = ${maxExecutionSeconds}`,
    `max_result_rows = ${lower(limits.max_result_rows, req.limits?.max_result_rows)}`,
    `max_result_bytes = ${lower(limits.max_result_bytes, req.limits?.max_result_bytes)}`,
    "result_overflow_mode = 'throw'",
    `max_memory_usage = ${lower(limits.max_memory_usage, req.limits?.max_memory_usage)}`,
  ];
  const limit = req.limits?.limit;
  if (limit !== undefined && Number.isInteger(limit) && limit > 0) pairs.push(`limit = ${limit}`);
  if (req.tenants !== undefined) {
    // Every readable table the statement reads has a tenant column (checkRead refused the others):
    // the engine adds the filter to each read of it, in subqueries and joins too.
    const filter =
      req.tenants.length === 0 ? '0' : `tenant IN (${req.tenants.map((t) => sqlString(t)).join(', ')})`;
    const entries = [...READABLE_TABLES]
      .filter(([name, t]) => t.tenantColumn && checked.tables.has(name))
      .map(([name]) => `${sqlString(`${database}.${name}`)}: ${sqlString(filter)}`);
    // A read of no table (SELECT 1) has nothing to filter; an empty map is still a valid setting.
    pairs.push(`additional_table_filters = {${entries.join(', ')}}`);
  }
  // Last: once readonly = 1 applies, no later setting could be changed.
  pairs.push('readonly = 1');
  return { text: pairs.join(', '), maxExecutionSeconds };
}
