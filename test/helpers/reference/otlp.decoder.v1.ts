// The OTLP protobuf decoder as it was before the string table (commit 04b1e82), kept as the
// reference the property test (test/unit/collectors/otlp-fast-path.test.ts) compares the decoder
// with. Not used by src/.
// OTLP traces on the wire ⇄ one internal span shape. Decodes `ExportTraceServiceRequest` (same wire
// format as `TracesData`) from protobuf and from OTLP/JSON, and encodes `ExportTraceServiceResponse`.
//
// The protobuf side is a hand-walked decoder over protobufjs' Reader that keeps only the fields the
// span mapper reads and skips everything else (events, links, trace state, dropped counts, …):
// about 3× faster than reflection (REFERENCE.md, "OpenTelemetry"). Field numbers follow
// opentelemetry-proto (collector/trace/v1, trace/v1, common/v1, resource/v1).
//
// Nanosecond times and int64 values are BigInt: 2026's epoch in nanoseconds exceeds
// Number.MAX_SAFE_INTEGER. Trace and span ids come out as lowercase hex whatever the encoding.
import protobuf from 'protobufjs/minimal.js';

type Reader = protobuf.Reader;
const { Reader: ReaderClass, Writer } = protobuf;

/** An OTLP AnyValue. `undefined` is the empty AnyValue (allowed by the spec). */
export type AnyValue =
  | string
  | boolean
  | bigint
  | number
  | Uint8Array
  | readonly AnyValue[]
  | ReadonlyMap<string, AnyValue>
  | undefined;

export type Attributes = ReadonlyMap<string, AnyValue>;

export const SPAN_KIND = {
  unspecified: 0,
  internal: 1,
  server: 2,
  client: 3,
  producer: 4,
  consumer: 5,
} as const;
export const STATUS_CODE = { unset: 0, ok: 1, error: 2 } as const;

/** The internal span: what the mapper needs of one OTLP span, whatever the encoding. */
export interface OtlpSpan {
  /** Lowercase hex; '' when absent. Length is validated by the mapper, not here. */
  readonly traceId: string;
  readonly spanId: string;
  readonly name: string;
  readonly kind: number;
  readonly startTimeUnixNano: bigint;
  readonly endTimeUnixNano: bigint;
  readonly attributes: Attributes;
  readonly statusCode: number;
  readonly statusMessage: string;
  /** Instrumentation scope name (e.g. `@opentelemetry/instrumentation-pg`). */
  readonly scope: string;
  /**
   * Set when the span itself could not be understood (OTLP/JSON only: a protobuf error cannot be
   * resynchronised and fails the whole request). Names the field, never its value.
   */
  readonly defect?: string;
}

export interface OtlpResourceSpans {
  readonly resource: Attributes;
  readonly spans: OtlpSpan[];
}

export interface ExportTraceRequest {
  readonly resourceSpans: OtlpResourceSpans[];
}

/** `ExportTraceServiceResponse.partial_success`; zero rejected and no message means full success. */
export interface ExportTraceResult {
  readonly rejectedSpans: number;
  readonly errorMessage: string;
}

/** The request cannot be decoded at all (HTTP 400, gRPC INVALID_ARGUMENT). */
export class OtlpDecodeError extends Error {
  override readonly name = 'OtlpDecodeError';
}

const EMPTY_ATTRIBUTES: Attributes = new Map();
/** Nested arrays / kvlists deeper than this are skipped, not followed (bounded stack). */
const MAX_VALUE_DEPTH = 8;

// ---------------------------------------------------------------------------------------------
// Protobuf

const WIRE = { varint: 0, fixed64: 1, ldelim: 2, fixed32: 5 } as const;

/**
 * @throws OtlpDecodeError when the bytes are not an ExportTraceServiceRequest. An empty buffer is
 * the empty request.
 */
export function decodeTraceRequestProto(buf: Uint8Array): ExportTraceRequest {
  const r = ReaderClass.create(buf);
  const resourceSpans: OtlpResourceSpans[] = [];
  try {
    while (r.pos < r.len) {
      const tag = r.uint32();
      if (tag >>> 3 === 1) {
        expectWire(tag, WIRE.ldelim);
        resourceSpans.push(readResourceSpans(r, endOf(r)));
      } else skip(r, tag);
    }
  } catch (err) {
    if (err instanceof OtlpDecodeError) throw err;
    // protobufjs says "index out of range" etc.: true but useless to a sender.
    throw new OtlpDecodeError(
      'body is not a valid ExportTraceServiceRequest (truncated or malformed protobuf)',
    );
  }
  return { resourceSpans };
}

function readResourceSpans(r: Reader, end: number): OtlpResourceSpans {
  let resource = EMPTY_ATTRIBUTES;
  const spans: OtlpSpan[] = [];
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        expectWire(tag, WIRE.ldelim);
        resource = readResource(r, endOf(r));
        break;
      case 2:
        expectWire(tag, WIRE.ldelim);
        readScopeSpans(r, endOf(r), spans);
        break;
      default:
        skip(r, tag);
    }
  }
  checkEnd(r, end);
  return { resource, spans };
}

function readResource(r: Reader, end: number): Attributes {
  const attrs = new Map<string, AnyValue>();
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag >>> 3 === 1) {
      expectWire(tag, WIRE.ldelim);
      readKeyValue(r, endOf(r), attrs, 0);
    } else skip(r, tag);
  }
  checkEnd(r, end);
  return attrs;
}

function readScopeSpans(r: Reader, end: number, out: OtlpSpan[]): void {
  let scope = '';
  const first = out.length;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        expectWire(tag, WIRE.ldelim);
        scope = readScopeName(r, endOf(r));
        // Any field order is legal: spans read before the scope get its name now.
        for (let i = first; i < out.length; i++) out[i] = { ...out[i]!, scope };
        break;
      case 2:
        expectWire(tag, WIRE.ldelim);
        out.push(readSpan(r, endOf(r), scope));
        break;
      default:
        skip(r, tag);
    }
  }
  checkEnd(r, end);
}

function readScopeName(r: Reader, end: number): string {
  let name = '';
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag >>> 3 === 1) {
      expectWire(tag, WIRE.ldelim);
      name = r.string();
    } else skip(r, tag);
  }
  checkEnd(r, end);
  return name;
}

function readSpan(r: Reader, end: number, scope: string): OtlpSpan {
  let traceId = '';
  let spanId = '';
  let name = '';
  let kind = 0;
  let start = 0n;
  let endTime = 0n;
  let attributes: Map<string, AnyValue> | undefined;
  let statusCode = 0;
  let statusMessage = '';
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        expectWire(tag, WIRE.ldelim);
        traceId = hex(r.bytes());
        break;
      case 2:
        expectWire(tag, WIRE.ldelim);
        spanId = hex(r.bytes());
        break;
      case 5:
        expectWire(tag, WIRE.ldelim);
        name = r.string();
        break;
      case 6:
        expectWire(tag, WIRE.varint);
        kind = r.int32();
        break;
      case 7:
        expectWire(tag, WIRE.fixed64);
        start = readFixed64(r);
        break;
      case 8:
        expectWire(tag, WIRE.fixed64);
        endTime = readFixed64(r);
        break;
      case 9:
        expectWire(tag, WIRE.ldelim);
        attributes ??= new Map();
        readKeyValue(r, endOf(r), attributes, 0);
        break;
      case 15: {
        expectWire(tag, WIRE.ldelim);
        const statusEnd = endOf(r);
        while (r.pos < statusEnd) {
          const t = r.uint32();
          if (t >>> 3 === 2) {
            expectWire(t, WIRE.ldelim);
            statusMessage = r.string();
          } else if (t >>> 3 === 3) {
            expectWire(t, WIRE.varint);
            statusCode = r.int32();
          } else skip(r, t);
        }
        checkEnd(r, statusEnd);
        break;
      }
      default:
        skip(r, tag);
    }
  }
  checkEnd(r, end);
  return {
    traceId,
    spanId,
    name,
    kind,
    startTimeUnixNano: start,
    endTimeUnixNano: endTime,
    attributes: attributes ?? EMPTY_ATTRIBUTES,
    statusCode,
    statusMessage,
    scope,
  };
}

function readKeyValue(r: Reader, end: number, into: Map<string, AnyValue>, depth: number): void {
  let key: string | undefined;
  let value: AnyValue;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        expectWire(tag, WIRE.ldelim);
        key = r.string();
        break;
      case 2:
        expectWire(tag, WIRE.ldelim);
        value = readAnyValue(r, endOf(r), depth);
        break;
      default:
        skip(r, tag);
    }
  }
  checkEnd(r, end);
  if (key !== undefined) into.set(key, value);
}

function readAnyValue(r: Reader, end: number, depth: number): AnyValue {
  let value: AnyValue;
  while (r.pos < end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    if (field === 1) {
      expectWire(tag, WIRE.ldelim);
      value = r.string();
    } else if (field === 2) {
      expectWire(tag, WIRE.varint);
      value = r.bool();
    } else if (field === 3) {
      expectWire(tag, WIRE.varint);
      value = longToBigInt(r.int64());
    } else if (field === 4) {
      expectWire(tag, WIRE.fixed64);
      value = r.double();
    } else if ((field === 5 || field === 6) && depth < MAX_VALUE_DEPTH) {
      expectWire(tag, WIRE.ldelim);
      value = field === 5 ? readArrayValue(r, endOf(r), depth + 1) : readKvList(r, endOf(r), depth + 1);
    } else if (field === 7) {
      expectWire(tag, WIRE.ldelim);
      value = r.bytes();
    } else skip(r, tag);
  }
  checkEnd(r, end);
  return value;
}

function readArrayValue(r: Reader, end: number, depth: number): AnyValue[] {
  const values: AnyValue[] = [];
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag >>> 3 === 1) {
      expectWire(tag, WIRE.ldelim);
      values.push(readAnyValue(r, endOf(r), depth));
    } else skip(r, tag);
  }
  checkEnd(r, end);
  return values;
}

function readKvList(r: Reader, end: number, depth: number): Map<string, AnyValue> {
  const map = new Map<string, AnyValue>();
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag >>> 3 === 1) {
      expectWire(tag, WIRE.ldelim);
      readKeyValue(r, endOf(r), map, depth);
    } else skip(r, tag);
  }
  checkEnd(r, end);
  return map;
}

/** Reads a length prefix and returns where the embedded message ends. */
function endOf(r: Reader): number {
  const len = r.uint32();
  const end = r.pos + len;
  if (end > r.len) throw new OtlpDecodeError('body is not a valid ExportTraceServiceRequest (truncated)');
  return end;
}

function checkEnd(r: Reader, end: number): void {
  // A field that ran past its message's end means the lengths lie.
  if (r.pos !== end) throw new OtlpDecodeError('body is not a valid ExportTraceServiceRequest (bad lengths)');
}

function expectWire(tag: number, wire: number): void {
  if ((tag & 7) !== wire)
    throw new OtlpDecodeError(`field ${tag >>> 3} has wire type ${tag & 7}, expected ${wire}`);
}

function skip(r: Reader, tag: number): void {
  if (tag >>> 3 === 0) throw new OtlpDecodeError('field number 0 is not valid protobuf');
  r.skipType(tag & 7);
}

function readFixed64(r: Reader): bigint {
  const p = r.pos;
  if (p + 8 > r.len) throw new OtlpDecodeError('body is not a valid ExportTraceServiceRequest (truncated)');
  const b = r.buf;
  const lo = (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
  const hi = (b[p + 4]! | (b[p + 5]! << 8) | (b[p + 6]! << 16) | (b[p + 7]! << 24)) >>> 0;
  r.pos = p + 8;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** protobufjs returns a Long when the `long` package is present, else a (possibly lossy) number. */
function longToBigInt(v: number | { low: number; high: number }): bigint {
  if (typeof v === 'number') return BigInt(v);
  return (BigInt(v.high) << 32n) + BigInt(v.low >>> 0);
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

// ---------------------------------------------------------------------------------------------
// OTLP/JSON

const SPAN_KIND_NAMES = [
  'SPAN_KIND_UNSPECIFIED',
  'SPAN_KIND_INTERNAL',
  'SPAN_KIND_SERVER',
  'SPAN_KIND_CLIENT',
  'SPAN_KIND_PRODUCER',
  'SPAN_KIND_CONSUMER',
];
const STATUS_CODE_NAMES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'];

/**
 * JSON.parse turns a 19-digit number into a double and loses the last digits. Before parsing,
 * quote long integer literals of the int64 fields so they arrive as exact strings. The pattern can
 * only match a key (a string followed by a colon), never text inside a string value.
 */
const LONG_INT64_LITERAL = /"(startTimeUnixNano|endTimeUnixNano|intValue)"(\s*:\s*)(-?\d{16,})(?=\s*[,}\]])/g;

/**
 * @throws OtlpDecodeError when the body is not JSON or its structure above the spans is wrong. A
 * problem inside one span makes that span a `defect` (rejected alone).
 */
export function decodeTraceRequestJson(body: Uint8Array | string): ExportTraceRequest {
  let text: string;
  try {
    text = typeof body === 'string' ? body : new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw new OtlpDecodeError('body is not valid UTF-8');
  }
  if (text.trim() === '') return { resourceSpans: [] };
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(LONG_INT64_LITERAL, '"$1"$2"$3"'));
  } catch {
    throw new OtlpDecodeError('body is not valid JSON');
  }
  if (!isObject(doc)) throw new OtlpDecodeError('body: expected a JSON object (ExportTraceServiceRequest)');
  const resourceSpans: OtlpResourceSpans[] = [];
  for (const [i, rs] of list(doc.resourceSpans, 'resourceSpans').entries()) {
    const path = `resourceSpans[${i}]`;
    if (!isObject(rs)) throw new OtlpDecodeError(`${path}: expected an object`);
    const resource = rs.resource === undefined ? undefined : rs.resource;
    if (resource !== undefined && !isObject(resource))
      throw new OtlpDecodeError(`${path}.resource: expected an object`);
    const resourceAttrs = jsonAttributes(resource?.attributes, `${path}.resource.attributes`, 0);
    const spans: OtlpSpan[] = [];
    for (const [j, ss] of list(rs.scopeSpans, `${path}.scopeSpans`).entries()) {
      const sPath = `${path}.scopeSpans[${j}]`;
      if (!isObject(ss)) throw new OtlpDecodeError(`${sPath}: expected an object`);
      const scope = isObject(ss.scope) && typeof ss.scope.name === 'string' ? ss.scope.name : '';
      for (const [k, span] of list(ss.spans, `${sPath}.spans`).entries())
        spans.push(jsonSpan(span, `${sPath}.spans[${k}]`, scope));
    }
    resourceSpans.push({ resource: resourceAttrs, spans });
  }
  return { resourceSpans };
}

function jsonSpan(v: unknown, path: string, scope: string): OtlpSpan {
  try {
    if (!isObject(v)) throw new OtlpDecodeError(`${path}: expected an object`);
    const status = v.status === undefined ? {} : v.status;
    if (!isObject(status)) throw new OtlpDecodeError(`${path}.status: expected an object`);
    return {
      traceId: jsonId(v.traceId, 16, `${path}.traceId`),
      spanId: jsonId(v.spanId, 8, `${path}.spanId`),
      name: optionalString(v.name, `${path}.name`),
      kind: jsonEnum(v.kind, SPAN_KIND_NAMES, `${path}.kind`),
      startTimeUnixNano: jsonUint64(v.startTimeUnixNano, `${path}.startTimeUnixNano`),
      endTimeUnixNano: jsonUint64(v.endTimeUnixNano, `${path}.endTimeUnixNano`),
      attributes: jsonAttributes(v.attributes, `${path}.attributes`, 0),
      statusCode: jsonEnum(status.code, STATUS_CODE_NAMES, `${path}.status.code`),
      statusMessage: optionalString(status.message, `${path}.status.message`),
      scope,
    };
  } catch (err) {
    if (!(err instanceof OtlpDecodeError)) throw err;
    return {
      traceId: '',
      spanId: '',
      name: '',
      kind: 0,
      startTimeUnixNano: 0n,
      endTimeUnixNano: 0n,
      attributes: EMPTY_ATTRIBUTES,
      statusCode: 0,
      statusMessage: '',
      scope,
      defect: err.message,
    };
  }
}

function jsonAttributes(v: unknown, path: string, depth: number): Attributes {
  if (v === undefined || v === null) return EMPTY_ATTRIBUTES;
  if (!Array.isArray(v)) throw new OtlpDecodeError(`${path}: expected an array of {key, value}`);
  const map = new Map<string, AnyValue>();
  for (const [i, kv] of v.entries()) {
    if (!isObject(kv) || typeof kv.key !== 'string')
      throw new OtlpDecodeError(`${path}[${i}]: expected {key: string, value}`);
    map.set(kv.key, jsonAnyValue(kv.value, `${path}[${i}].value`, depth));
  }
  return map;
}

function jsonAnyValue(v: unknown, path: string, depth: number): AnyValue {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw new OtlpDecodeError(`${path}: expected an AnyValue object`);
  if (v.stringValue !== undefined) return optionalString(v.stringValue, `${path}.stringValue`);
  if (v.boolValue !== undefined) {
    if (typeof v.boolValue !== 'boolean') throw new OtlpDecodeError(`${path}.boolValue: expected a boolean`);
    return v.boolValue;
  }
  if (v.intValue !== undefined) return jsonInt64(v.intValue, `${path}.intValue`);
  if (v.doubleValue !== undefined) return jsonDouble(v.doubleValue, `${path}.doubleValue`);
  if (v.bytesValue !== undefined) {
    if (typeof v.bytesValue !== 'string') throw new OtlpDecodeError(`${path}.bytesValue: expected base64`);
    return new Uint8Array(Buffer.from(v.bytesValue, 'base64'));
  }
  if (depth >= MAX_VALUE_DEPTH) return undefined;
  if (v.arrayValue !== undefined) {
    const values = isObject(v.arrayValue) ? v.arrayValue.values : undefined;
    return list(values, `${path}.arrayValue.values`).map((x, i) =>
      jsonAnyValue(x, `${path}.arrayValue.values[${i}]`, depth + 1),
    );
  }
  if (v.kvlistValue !== undefined) {
    const values = isObject(v.kvlistValue) ? v.kvlistValue.values : undefined;
    return new Map(jsonAttributes(values ?? [], `${path}.kvlistValue.values`, depth + 1));
  }
  return undefined;
}

/**
 * Ids are hex in OTLP/JSON, but some senders use protobuf's JSON mapping (base64): a string of
 * exactly 2×size hex digits is hex, anything else is tried as base64 (standard or URL alphabet).
 */
function jsonId(v: unknown, size: number, path: string): string {
  if (v === undefined || v === null || v === '') return '';
  if (typeof v !== 'string') throw new OtlpDecodeError(`${path}: expected a hex string`);
  if (v.length === size * 2 && /^[0-9a-fA-F]+$/.test(v)) return v.toLowerCase();
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(v)) return Buffer.from(v, 'base64').toString('hex');
  throw new OtlpDecodeError(`${path}: expected ${size} bytes as hex or base64`);
}

function jsonUint64(v: unknown, path: string): bigint {
  if (v === undefined || v === null) return 0n;
  const n = jsonInt64(v, path);
  if (n < 0n) throw new OtlpDecodeError(`${path}: must not be negative`);
  return n;
}

function jsonInt64(v: unknown, path: string): bigint {
  if (typeof v === 'string' && /^-?\d{1,20}$/.test(v)) return BigInt(v);
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  throw new OtlpDecodeError(`${path}: expected an integer (number or decimal string)`);
}

function jsonDouble(v: unknown, path: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    if (v === 'NaN') return Number.NaN;
    if (v === 'Infinity') return Number.POSITIVE_INFINITY;
    if (v === '-Infinity') return Number.NEGATIVE_INFINITY;
    const n = Number(v);
    if (v.trim() !== '' && Number.isFinite(n)) return n;
  }
  throw new OtlpDecodeError(`${path}: expected a number`);
}

function jsonEnum(v: unknown, names: readonly string[], path: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string') {
    const i = names.indexOf(v);
    if (i >= 0) return i;
  }
  throw new OtlpDecodeError(`${path}: expected an enum integer`);
}

function optionalString(v: unknown, path: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new OtlpDecodeError(`${path}: expected a string`);
  return v;
}

function list(v: unknown, path: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new OtlpDecodeError(`${path}: expected an array`);
  return v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------------------------------------
// ExportTraceServiceResponse

/** `ExportTraceServiceResponse` as protobuf; full success is the empty message. */
export function encodeExportResponseProto(result: ExportTraceResult): Uint8Array {
  if (result.rejectedSpans === 0 && result.errorMessage === '') return new Uint8Array(0);
  const w = Writer.create();
  w.uint32((1 << 3) | WIRE.ldelim).fork();
  if (result.rejectedSpans !== 0) w.uint32((1 << 3) | WIRE.varint).int64(result.rejectedSpans);
  if (result.errorMessage !== '') w.uint32((2 << 3) | WIRE.ldelim).string(result.errorMessage);
  w.ldelim();
  return w.finish();
}

/** `ExportTraceServiceResponse` as OTLP/JSON (int64 as a decimal string, per the proto3 JSON mapping). */
export function encodeExportResponseJson(result: ExportTraceResult): string {
  if (result.rejectedSpans === 0 && result.errorMessage === '') return '{}';
  return JSON.stringify({
    partialSuccess: {
      ...(result.rejectedSpans !== 0 ? { rejectedSpans: String(result.rejectedSpans) } : {}),
      ...(result.errorMessage !== '' ? { errorMessage: result.errorMessage } : {}),
    },
  });
}

/** The client side of the response (gRPC service definition, tests). */
export function decodeExportResponseProto(buf: Uint8Array): ExportTraceResult {
  const r = ReaderClass.create(buf);
  let rejectedSpans = 0;
  let errorMessage = '';
  try {
    while (r.pos < r.len) {
      const tag = r.uint32();
      if (tag >>> 3 !== 1) {
        skip(r, tag);
        continue;
      }
      expectWire(tag, WIRE.ldelim);
      const end = endOf(r);
      while (r.pos < end) {
        const t = r.uint32();
        if (t >>> 3 === 1) {
          expectWire(t, WIRE.varint);
          rejectedSpans = Number(longToBigInt(r.int64()));
        } else if (t >>> 3 === 2) {
          expectWire(t, WIRE.ldelim);
          errorMessage = r.string();
        } else skip(r, t);
      }
      checkEnd(r, end);
    }
  } catch (err) {
    if (err instanceof OtlpDecodeError) throw err;
    throw new OtlpDecodeError('not a valid ExportTraceServiceResponse');
  }
  return { rejectedSpans, errorMessage };
}

/**
 * `google.rpc.Status` {code(1), message(2)}: the body of an OTLP/HTTP error answer in protobuf.
 */
export function encodeRpcStatusProto(code: number, message: string): Uint8Array {
  const w = Writer.create();
  if (code !== 0) w.uint32((1 << 3) | WIRE.varint).int32(code);
  if (message !== '') w.uint32((2 << 3) | WIRE.ldelim).string(message);
  return w.finish();
}
