// Canonical row content: a value as ClickHouse stores it, in a form that is equal whether it comes
// from the row vigil sent or from the row read back, and the canonical JSON of a row and its key.
import type { TableShape } from './shape.js';

/** `Map(LowCardinality(String), Float64)` → ['LowCardinality(String)', 'Float64']. */
function typeArgs(type: string): string[] {
  const inner = type.slice(type.indexOf('(') + 1, type.lastIndexOf(')'));
  const args: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < inner.length; i++) {
    const ch = inner[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      args.push(inner.slice(start, i).trim());
      start = i + 1;
    }
  }
  args.push(inner.slice(start).trim());
  return args;
}

interface WellFormed {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

/** A string without lone surrogates (ClickHouse refuses them; they become U+FFFD). */
export function wellFormed(s: string): string {
  const w = s as unknown as WellFormed;
  return w.isWellFormed() ? s : w.toWellFormed();
}

type Canonicalizer = (value: unknown) => unknown;

/** Compiled once per type string: rows are canonicalized on every insert (hot path). */
const canonicalizers = new Map<string, Canonicalizer>();

const byFirst = (a: readonly [string, unknown], b: readonly [string, unknown]) =>
  a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;

function compileCanonicalizer(type: string): Canonicalizer {
  let t = type;
  while (t.startsWith('LowCardinality(')) t = typeArgs(t)[0]!;
  if (t.startsWith('Nullable(')) {
    const inner = canonicalizerFor(typeArgs(t)[0]!);
    return (v) => (v === null || v === undefined ? null : inner(v));
  }
  if (t.startsWith('Array(')) {
    const inner = canonicalizerFor(typeArgs(t)[0]!);
    return (v) => (Array.isArray(v) ? v.map(inner) : []);
  }
  if (t.startsWith('Map(')) {
    const [k, val] = typeArgs(t) as [string, string];
    const key = canonicalizerFor(k);
    const value = canonicalizerFor(val);
    return (v) => {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return [];
      return Object.entries(v)
        .map(([name, x]) => [String(key(name)), value(x)] as const)
        .sort(byFirst);
    };
  }
  if (t === 'String' || t.startsWith('FixedString(') || t.startsWith('Enum'))
    return (v) => {
      if (v === null || v === undefined) return '';
      if (typeof v === 'string') return wellFormed(v);
      return typeof v === 'object' ? JSON.stringify(v) : String(v);
    };
  if (t === 'Bool') return (v) => v === true || v === 1 || v === 'true' || v === '1';
  if (/^U?Int(8|16|32)$/.test(t))
    return (v) => {
      const n = typeof v === 'boolean' ? Number(v) : Number(v ?? 0);
      return Number.isFinite(n) ? n : 0;
    };
  if (/^U?Int(64|128|256)$/.test(t))
    return (v) => {
      if (v === null || v === undefined) return '0';
      return typeof v === 'boolean' ? String(Number(v)) : String(v);
    };
  if (t === 'Float32' || t === 'Float64') {
    const f32 = t === 'Float32';
    return (v) => {
      const n = Number(v ?? 0);
      if (!Number.isFinite(n)) return 0;
      const r = f32 ? Math.fround(n) : n;
      return r === 0 ? 0 : r; // -0 and 0 are the same stored value
    };
  }
  return (v) => {
    if (v === null || v === undefined) return null;
    return typeof v === 'string' ? wellFormed(v) : String(v);
  };
}

function canonicalizerFor(type: string): Canonicalizer {
  let c = canonicalizers.get(type);
  if (!c) {
    c = compileCanonicalizer(type);
    canonicalizers.set(type, c);
  }
  return c;
}

/**
 * A value as ClickHouse stores it, in a form that is equal whether it comes from the row vigil
 * sent or from the row read back: numbers are parsed as the column's type (Float32 rounded),
 * 64-bit integers are decimal strings, maps are sorted pairs, absent values are the zero value.
 */
export function canonicalValue(type: string, value: unknown): unknown {
  return canonicalizerFor(type)(value);
}

function isZero(v: unknown): boolean {
  return (
    v === '' ||
    v === 0 ||
    v === '0' ||
    v === false ||
    v === null ||
    (Array.isArray(v) && v.length === 0) ||
    v === '1970-01-01 00:00:00.000' ||
    v === '1970-01-01 00:00:00'
  );
}

/**
 * The zero-value test of a column type's canonical values. A text column's zero is only '': the
 * text '0' is content, and a row whose text changed between '' and '0' must digest differently
 * (the generic test also takes '0', the canonical zero of a 64-bit integer).
 */
function zeroTestFor(type: string): (v: unknown) => boolean {
  let t = type;
  while (t.startsWith('LowCardinality(') || t.startsWith('Nullable(')) t = typeArgs(t)[0]!;
  return t === 'String' || t.startsWith('FixedString(') || t.startsWith('Enum')
    ? (v) => v === '' || v === null
    : isZero;
}

/**
 * The canonical JSON of a row: its digested columns in name order, leaving out zero values, so a
 * column added later with a zero default does not change the digest of rows stored before it.
 */
export function canonicalRow(shape: TableShape, row: Record<string, unknown>): string {
  // Built as text rather than through an array of pairs: this runs for every stored row. The
  // result is exactly JSON.stringify(pairs).
  let out = '';
  for (const c of compiledColumns(shape)) {
    const v = c.canon(row[c.name]);
    if (c.isZero(v)) continue;
    out += `${out ? ',' : ''}[${c.json},${JSON.stringify(v)}]`;
  }
  return `[${out}]`;
}

interface CompiledColumn {
  readonly name: string;
  readonly json: string;
  readonly canon: Canonicalizer;
  readonly isZero: (v: unknown) => boolean;
}

const compiledShapes = new WeakMap<TableShape, CompiledColumn[]>();

function compiledColumns(shape: TableShape): CompiledColumn[] {
  let cols = compiledShapes.get(shape);
  if (!cols) {
    cols = shape.columns.map((c) => ({
      name: c.name,
      json: JSON.stringify(c.name),
      canon: canonicalizerFor(c.type),
      isZero: zeroTestFor(c.type),
    }));
    compiledShapes.set(shape, cols);
  }
  return cols;
}

/** The row's sorting key, canonical JSON (tokens and times only: safe to show). */
export function rowKey(shape: TableShape, row: Record<string, unknown>): string {
  return JSON.stringify(shape.keyColumns.map((c) => canonicalValue(c.type, row[c.name])));
}
