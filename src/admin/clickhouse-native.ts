// Native format for HTTP clients that speak a protocol revision (clickhouse-go, hence Grafana's
// ClickHouse plugin, sends `client_protocol_version`). The embedded engine writes Native for
// revision 0: no block info, no per-column serialization flag. A client of a later revision
// expects both, so each block is re-framed: block info before it, a "no custom serialization"
// byte after each column's type. The column data is copied as is; walking it only finds where
// each column ends, which needs the size rules of each type. Types whose layout depends on the
// revision (Dynamic, Variant, JSON, Object) or that carry opaque states (AggregateFunction) are
// refused rather than guessed.

/** First revision whose Native blocks carry a custom-serialization flag per column. */
export const REVISION_WITH_CUSTOM_SERIALIZATION = 54454;

export class NativeTranscodeError extends Error {
  override readonly name = 'NativeTranscodeError';
}

/** Block info as a revision > 0 reader expects it: is_overflows = false, bucket_num = -1, end. */
const BLOCK_INFO = Buffer.from([0x01, 0x00, 0x02, 0xff, 0xff, 0xff, 0xff, 0x00]);
const NO_CUSTOM_SERIALIZATION = Buffer.from([0x00]);

const FIXED_WIDTH: Record<string, number> = {
  UInt8: 1,
  Int8: 1,
  Bool: 1,
  Enum8: 1,
  UInt16: 2,
  Int16: 2,
  Enum16: 2,
  Date: 2,
  BFloat16: 2,
  UInt32: 4,
  Int32: 4,
  Float32: 4,
  Date32: 4,
  DateTime: 4,
  IPv4: 4,
  Time: 4,
  Decimal32: 4,
  UInt64: 8,
  Int64: 8,
  Float64: 8,
  DateTime64: 8,
  Time64: 8,
  Decimal64: 8,
  UInt128: 16,
  Int128: 16,
  UUID: 16,
  IPv6: 16,
  Decimal128: 16,
  UInt256: 32,
  Int256: 32,
  Decimal256: 32,
};

/** Type aliases spelled out (geo types are tuples and arrays of Float64). */
const ALIASES: Record<string, string> = {
  Point: 'Tuple(Float64, Float64)',
  Ring: 'Array(Tuple(Float64, Float64))',
  LineString: 'Array(Tuple(Float64, Float64))',
  Polygon: 'Array(Array(Tuple(Float64, Float64)))',
  MultiLineString: 'Array(Array(Tuple(Float64, Float64)))',
  MultiPolygon: 'Array(Array(Array(Tuple(Float64, Float64))))',
};

export interface TypeNode {
  readonly name: string;
  readonly args: readonly string[];
}

/** `Name(arg, arg)` → name and top-level arguments (quotes and nested parentheses respected). */
export function parseType(text: string): TypeNode {
  const t = text.trim();
  const open = t.indexOf('(');
  if (open < 0 || !t.endsWith(')')) return { name: t, args: [] };
  const inner = t.slice(open + 1, -1);
  const args: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let cur = '';
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i]!;
    if (quote) {
      cur += c;
      if (c === '\\') cur += inner[++i] ?? '';
      else if (c === quote) quote = null;
    } else if (c === "'" || c === '`' || c === '"') {
      quote = c;
      cur += c;
    } else if (c === '(') {
      depth++;
      cur += c;
    } else if (c === ')') {
      depth--;
      cur += c;
    } else if (c === ',' && depth === 0) {
      args.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  if (cur.trim()) args.push(cur.trim());
  return { name: t.slice(0, open).trim(), args };
}

/** A tuple element is `Type` or `name Type`: the type follows the first top-level space. */
function tupleElementType(arg: string): string {
  let depth = 0;
  let quote: string | null = null;
  for (let i = 0; i < arg.length; i++) {
    const c = arg[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === "'" || c === '`' || c === '"') quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ' ' && depth === 0) return arg.slice(i + 1).trim();
  }
  return arg;
}

function decimalWidth(precision: number): number {
  if (precision <= 9) return 4;
  if (precision <= 18) return 8;
  if (precision <= 38) return 16;
  return 32;
}

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  need(n: number): void {
    if (this.pos + n > this.buf.length) throw new NativeTranscodeError('truncated Native data');
  }
  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }
  varUInt(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      this.need(1);
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw new NativeTranscodeError('bad varint');
    }
  }
  string(): string {
    const n = this.varUInt();
    this.need(n);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  uint64(): number {
    this.need(8);
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new NativeTranscodeError('count out of range');
    return Number(v);
  }
  /** The last of `rows` UInt64 offsets (the nested row count), skipping them all. */
  offsets(rows: number): number {
    if (rows === 0) return 0;
    this.need(rows * 8);
    const last = this.buf.readBigUInt64LE(this.pos + (rows - 1) * 8);
    this.pos += rows * 8;
    return Number(last);
  }
}

function resolve(typeText: string): TypeNode {
  const node = parseType(typeText);
  const alias = ALIASES[node.name];
  return alias ? parseType(alias) : node;
}

/** Skips the serialization state prefix a column of this type writes before its data. */
function skipPrefix(r: Reader, typeText: string): void {
  const t = resolve(typeText);
  switch (t.name) {
    case 'LowCardinality':
      r.skip(8); // key serialization version
      return;
    case 'Array':
    case 'Nullable':
      skipPrefix(r, t.args[0]!);
      return;
    case 'Map':
      skipPrefix(r, t.args[0]!);
      skipPrefix(r, t.args[1]!);
      return;
    case 'Tuple':
      for (const a of t.args) skipPrefix(r, tupleElementType(a));
      return;
    case 'SimpleAggregateFunction':
      skipPrefix(r, t.args[t.args.length - 1]!);
      return;
    default:
      return;
  }
}

/** Skips `rows` values of a column of this type. */
function skipData(r: Reader, typeText: string, rows: number): void {
  const t = resolve(typeText);
  const fixed = FIXED_WIDTH[t.name];
  if (fixed !== undefined) {
    r.skip(fixed * rows);
    return;
  }
  switch (t.name) {
    case 'String':
      for (let i = 0; i < rows; i++) r.skip(r.varUInt());
      return;
    case 'FixedString':
      r.skip(Number(t.args[0]) * rows);
      return;
    case 'Decimal':
      r.skip(decimalWidth(Number(t.args[0])) * rows);
      return;
    case 'Nothing':
      r.skip(rows);
      return;
    case 'Nullable':
      r.skip(rows); // null map
      skipData(r, t.args[0]!, rows);
      return;
    case 'Array':
      skipData(r, t.args[0]!, r.offsets(rows));
      return;
    case 'Map': {
      const n = r.offsets(rows);
      skipData(r, t.args[0]!, n);
      skipData(r, t.args[1]!, n);
      return;
    }
    case 'Tuple':
      for (const a of t.args) skipData(r, tupleElementType(a), rows);
      return;
    case 'SimpleAggregateFunction':
      skipData(r, t.args[t.args.length - 1]!, rows);
      return;
    case 'LowCardinality':
      skipLowCardinality(r, t.args[0]!, rows);
      return;
    default:
      if (t.name.startsWith('Interval')) {
        r.skip(8 * rows);
        return;
      }
      throw new NativeTranscodeError(`type ${typeText} cannot be sent in Native format by this interface`);
  }
}

// LowCardinality granules: index type (flags + width), optional additional keys, then indexes.
const HAS_ADDITIONAL_KEYS = 1 << 9;
const NEED_GLOBAL_DICTIONARY = 1 << 8;

function skipLowCardinality(r: Reader, inner: string, rows: number): void {
  const dictionaryType = resolve(inner).name === 'Nullable' ? resolve(inner).args[0]! : inner;
  let read = 0;
  while (read < rows) {
    const indexType = r.uint64();
    if (indexType & NEED_GLOBAL_DICTIONARY)
      throw new NativeTranscodeError('LowCardinality with a global dictionary is not supported');
    if (indexType & HAS_ADDITIONAL_KEYS) skipData(r, dictionaryType, r.uint64());
    const count = r.uint64();
    r.skip(count * 2 ** (indexType & 0xff));
    read += count;
  }
}

/**
 * Native bytes written for revision 0, re-framed for a client of `revision`. Revision 0 (no
 * `client_protocol_version`) returns the input unchanged.
 */
export function nativeForRevision(data: Buffer, revision: number): Buffer {
  if (revision <= 0 || data.length === 0) return data;
  const r = new Reader(data);
  const out: Buffer[] = [];
  while (r.pos < data.length) {
    out.push(BLOCK_INFO);
    const headerStart = r.pos;
    const columns = r.varUInt();
    const rows = r.varUInt();
    out.push(data.subarray(headerStart, r.pos));
    for (let c = 0; c < columns; c++) {
      const from = r.pos;
      r.string(); // name
      const type = r.string();
      out.push(data.subarray(from, r.pos));
      if (revision >= REVISION_WITH_CUSTOM_SERIALIZATION) out.push(NO_CUSTOM_SERIALIZATION);
      const dataStart = r.pos;
      if (rows > 0) {
        skipPrefix(r, type);
        skipData(r, type, rows);
      }
      out.push(data.subarray(dataStart, r.pos));
    }
  }
  return Buffer.concat(out);
}
