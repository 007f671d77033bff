// OTLP traces on the wire ⇄ one internal span shape. Decodes `ExportTraceServiceRequest` (same wire
// format as `TracesData`) from protobuf and from OTLP/JSON, and encodes `ExportTraceServiceResponse`.
//
// The protobuf side is a hand-walked decoder over protobufjs' Reader that keeps only the fields the
// span mapper reads and skips everything else (links, trace state, dropped counts, …; of span
// events only the first `exception` event's exception.type and how many events each name had):
// about 3× faster than reflection (REFERENCE.md, "OpenTelemetry"). Field numbers follow
// opentelemetry-proto (collector/trace/v1, trace/v1, common/v1, resource/v1).
//
// Nanosecond times and int64 values are BigInt: 2026's epoch in nanoseconds exceeds
// Number.MAX_SAFE_INTEGER. Trace and span ids come out as lowercase hex whatever the encoding.
import protobuf from 'protobufjs/minimal.js';
import { DEFAULT_MAX_ITEMS, MAX_JSON_DEPTH, nestingSteps, TOO_DEEP_REASON } from '../ndjson.js';
import { type Descent, parseFramed } from '../json-frames.js';
import { runToEnd, type Steps } from '../slices.js';
import { StringTable } from './string-table.js';

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
  /** Lowercase hex of the parent span; '' (or absent) for a root span. Read by trace-identity.ts. */
  readonly parentSpanId?: string;
  readonly name: string;
  readonly kind: number;
  readonly startTimeUnixNano: bigint;
  readonly endTimeUnixNano: bigint;
  readonly attributes: Attributes;
  readonly statusCode: number;
  readonly statusMessage: string;
  /** Instrumentation scope name (e.g. `@opentelemetry/instrumentation-pg`). */
  readonly scope: string;
  /** `exception.type` of the span's first `exception` event (how SDKs record a failed call). */
  readonly exceptionType?: string;
  /**
   * Span events by name → how many (at most MAX_EVENT_NAMES names): OpenLLMetry's Chroma and Milvus
   * instrumentations report returned rows only as one `db.query.result` / `db.search.result` event
   * each. Absent when the span has no events.
   */
  readonly eventCounts?: ReadonlyMap<string, number>;
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

/** The request holds more spans than one request may (HTTP 413, gRPC RESOURCE_EXHAUSTED). */
export class OtlpLimitError extends Error {
  override readonly name = 'OtlpLimitError';
}

export interface OtlpDecodeLimits {
  /** Spans one request may hold (VIGIL_MAX_ITEMS_PER_REQUEST). @defaultValue DEFAULT_MAX_ITEMS */
  readonly maxSpans?: number;
}

const EMPTY_ATTRIBUTES: Attributes = new Map();
/** Nested arrays / kvlists deeper than this are skipped, not followed (bounded stack). */
const MAX_VALUE_DEPTH = 8;
/**
 * Attributes kept per span or resource, and values per array or kvlist; the rest are skipped
 * unread (protobuf) or not looked at (JSON). SDKs keep 128 by default: 1024 loses nothing a real
 * exporter sends, and one span of a million attributes costs a skip per attribute, not a map entry.
 */
export const MAX_ATTRIBUTES = 1024;
/** Distinct event names counted per span; events of further names are skipped, not counted. */
export const MAX_EVENT_NAMES = 16;

/** What the decoders keep of a span's events (see OtlpSpan.exceptionType / eventCounts). */
class SpanEventFacts {
  exceptionType: string | undefined;
  counts: Map<string, number> | undefined;

  note(name: string, exceptionType: () => string | undefined): void {
    this.counts ??= new Map();
    const n = this.counts.get(name);
    if (n !== undefined) this.counts.set(name, n + 1);
    else if (this.counts.size < MAX_EVENT_NAMES) this.counts.set(name, 1);
    if (name === 'exception' && this.exceptionType === undefined) this.exceptionType = exceptionType();
  }
}

/** Spans counted against the limit while a request is decoded. */
interface SpanBudget {
  spans: number;
  readonly max: number;
}

const budgetOf = (limits: OtlpDecodeLimits | undefined): SpanBudget => ({
  spans: 0,
  max: limits?.maxSpans ?? DEFAULT_MAX_ITEMS,
});

const spanLimitError = (max: number) =>
  new OtlpLimitError(`request holds more than ${max} spans, the limit of one request: send smaller batches`);

function countSpan(budget: SpanBudget): void {
  if (++budget.spans > budget.max) throw spanLimitError(budget.max);
}

// ---------------------------------------------------------------------------------------------
// Protobuf

const WIRE = { varint: 0, fixed64: 1, ldelim: 2, fixed32: 5 } as const;

// Recently read attribute keys and short values (span names too), kept across requests: a
// transparent cache (same string for the same bytes), bounded, for this process's decoders.
// Keys have their own table so the many distinct values (user ids, addresses) cannot evict them.
const KEYS = new StringTable(1024);
const VALUES = new StringTable(4096);

/**
 * @throws OtlpDecodeError when the bytes are not an ExportTraceServiceRequest (an empty buffer is
 * the empty request); OtlpLimitError when they hold more spans than `limits.maxSpans`.
 */
export function decodeTraceRequestProto(buf: Uint8Array, limits?: OtlpDecodeLimits): ExportTraceRequest {
  return runToEnd(decodeTraceRequestProtoSteps(buf, limits));
}

/** `decodeTraceRequestProto` pausing between spans (servers run it sliced: see slices.ts). */
export function* decodeTraceRequestProtoSteps(
  buf: Uint8Array,
  limits?: OtlpDecodeLimits,
): Steps<ExportTraceRequest> {
  const r = ReaderClass.create(buf);
  const resourceSpans: OtlpResourceSpans[] = [];
  const budget = budgetOf(limits);
  try {
    while (r.pos < r.len) {
      const tag = r.uint32();
      if (tag >>> 3 === 1) {
        expectWire(tag, WIRE.ldelim);
        resourceSpans.push(yield* readResourceSpans(r, endOf(r), budget));
      } else skip(r, tag);
    }
  } catch (err) {
    if (err instanceof OtlpDecodeError || err instanceof OtlpLimitError) throw err;
    // protobufjs says "index out of range" etc.: true but useless to a sender.
    throw new OtlpDecodeError(
      'body is not a valid ExportTraceServiceRequest (truncated or malformed protobuf)',
    );
  }
  return { resourceSpans };
}

function* readResourceSpans(r: Reader, end: number, budget: SpanBudget): Steps<OtlpResourceSpans> {
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
        yield* readScopeSpans(r, endOf(r), spans, budget);
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
    if (tag >>> 3 === 1 && attrs.size < MAX_ATTRIBUTES) {
      expectWire(tag, WIRE.ldelim);
      readKeyValue(r, endOf(r), attrs, 0);
    } else skip(r, tag);
  }
  checkEnd(r, end);
  return attrs;
}

function* readScopeSpans(r: Reader, end: number, out: OtlpSpan[], budget: SpanBudget): Steps<void> {
  let scope = '';
  const first = out.length;
  let renamed = false;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        expectWire(tag, WIRE.ldelim);
        scope = readScopeName(r, endOf(r));
        renamed ||= out.length > first;
        break;
      case 2:
        expectWire(tag, WIRE.ldelim);
        countSpan(budget);
        out.push(readSpan(r, endOf(r), scope));
        if (budget.spans % 32 === 0) yield;
        break;
      default:
        skip(r, tag);
    }
  }
  checkEnd(r, end);
  // Any field order is legal, and the last scope is the message's: spans read before it get its
  // name now (once, however many scope fields a hostile request repeats).
  if (renamed)
    for (let i = first; i < out.length; i++) if (out[i]!.scope !== scope) out[i] = { ...out[i]!, scope };
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
  let parentSpanId = '';
  let name = '';
  let kind = 0;
  let start = 0n;
  let endTime = 0n;
  let attributes: Map<string, AnyValue> | undefined;
  let statusCode = 0;
  let statusMessage = '';
  let events: SpanEventFacts | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        expectWire(tag, WIRE.ldelim);
        traceId = readHex(r);
        break;
      case 2:
        expectWire(tag, WIRE.ldelim);
        spanId = readHex(r);
        break;
      case 4:
        expectWire(tag, WIRE.ldelim);
        parentSpanId = readHex(r);
        break;
      case 5:
        expectWire(tag, WIRE.ldelim);
        name = VALUES.read(r);
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
        if (attributes.size < MAX_ATTRIBUTES) readKeyValue(r, endOf(r), attributes, 0);
        else skip(r, tag);
        break;
      case 11:
        expectWire(tag, WIRE.ldelim);
        events ??= new SpanEventFacts();
        readEvent(r, endOf(r), events);
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
    parentSpanId,
    name,
    kind,
    startTimeUnixNano: start,
    endTimeUnixNano: endTime,
    attributes: attributes ?? EMPTY_ATTRIBUTES,
    statusCode,
    statusMessage,
    scope,
    ...(events?.exceptionType !== undefined && { exceptionType: events.exceptionType }),
    ...(events?.counts !== undefined && { eventCounts: events.counts }),
  };
}

/** Span.Event: name (2) and, of an `exception` event, the attribute exception.type (3). */
function readEvent(r: Reader, end: number, into: SpanEventFacts): void {
  let name = '';
  let attrsAt: number[] = [];
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag >>> 3 === 2) {
      expectWire(tag, WIRE.ldelim);
      name = KEYS.read(r);
    } else if (tag >>> 3 === 3 && attrsAt.length < MAX_ATTRIBUTES) {
      // The name may come after the attributes: remember where they are, read them if needed.
      expectWire(tag, WIRE.ldelim);
      attrsAt.push(r.pos);
      skip(r, tag);
    } else skip(r, tag);
  }
  checkEnd(r, end);
  into.note(name, () => {
    const resume = r.pos;
    const attrs = new Map<string, AnyValue>();
    for (const at of attrsAt) {
      r.pos = at;
      readKeyValue(r, endOf(r), attrs, MAX_VALUE_DEPTH);
    }
    r.pos = resume;
    attrsAt = [];
    const t = attrs.get('exception.type');
    return typeof t === 'string' && t !== '' ? t : undefined;
  });
}

function readKeyValue(r: Reader, end: number, into: Map<string, AnyValue>, depth: number): void {
  let key: string | undefined;
  let value: AnyValue;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        expectWire(tag, WIRE.ldelim);
        key = KEYS.read(r);
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
      value = VALUES.read(r);
    } else if (field === 2) {
      expectWire(tag, WIRE.varint);
      value = r.bool();
    } else if (field === 3) {
      expectWire(tag, WIRE.varint);
      value = readInt64(r);
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
    if (tag >>> 3 === 1 && values.length < MAX_ATTRIBUTES) {
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
    if (tag >>> 3 === 1 && map.size < MAX_ATTRIBUTES) {
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

/**
 * An int64 varint as a BigInt. Up to 7 bytes (below 2^49, never negative: negatives take 10) the
 * value is exact in a double, read here without protobufjs' Long and its three BigInts; longer
 * ones go through `r.int64()` as before.
 */
function readInt64(r: Reader): bigint {
  const b = r.buf;
  let p = r.pos;
  let n = 0;
  let scale = 1;
  for (let i = 0; i < 7 && p < r.len; i++) {
    const byte = b[p++]!;
    n += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      r.pos = p;
      return BigInt(n);
    }
    scale *= 128;
  }
  return longToBigInt(r.int64());
}

/** protobufjs returns a Long when the `long` package is present, else a (possibly lossy) number. */
function longToBigInt(v: number | { low: number; high: number }): bigint {
  if (typeof v === 'number') return BigInt(v);
  return (BigInt(v.high) << 32n) + BigInt(v.low >>> 0);
}

/** A bytes field as hex, straight from the body (no slice per id). */
function readHex(r: Reader): string {
  const len = r.uint32();
  const start = r.pos;
  const end = start + len;
  // As r.bytes() would: a RangeError, which the caller words as a malformed body.
  if (end > r.len) throw new RangeError(`index out of range: ${start} + ${len} > ${r.len}`);
  r.pos = end;
  const b = r.buf;
  const bytes = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  return bytes.toString('hex', start, end);
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
 * @throws OtlpDecodeError when the body is not JSON, nests deeper than MAX_JSON_DEPTH, or its
 * structure above the spans is wrong (a problem inside one span makes that span a `defect`,
 * rejected alone); OtlpLimitError when it holds more spans than `limits.maxSpans`.
 */
export function decodeTraceRequestJson(
  body: Uint8Array | string,
  limits?: OtlpDecodeLimits,
): ExportTraceRequest {
  return runToEnd(decodeTraceRequestJsonSteps(body, limits));
}

/** `decodeTraceRequestJson` pausing between spans (servers run it sliced: see slices.ts). */
export function* decodeTraceRequestJsonSteps(
  body: Uint8Array | string,
  limits?: OtlpDecodeLimits,
): Steps<ExportTraceRequest> {
  let text: string;
  try {
    text = typeof body === 'string' ? body : new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw new OtlpDecodeError('body is not valid UTF-8');
  }
  if (text.trim() === '') return { resourceSpans: [] };
  // Before parsing: nothing below walks a value deeper than this (and JSON.parse need not build it).
  if (yield* nestingSteps(text, 0, text.length, MAX_JSON_DEPTH))
    throw new OtlpDecodeError(`body: ${TOO_DEEP_REASON}`);
  // Parsed piece by piece (json-frames.ts): no single JSON.parse covers more than one span or one
  // resource, and a span over the limit stops the parse before it is built.
  const budget = budgetOf(limits);
  const spans: Descent = { members: { spans: { items: 'whole', onItem: () => countSpan(budget) } } };
  const descent: Descent = {
    members: { resourceSpans: { items: { members: { scopeSpans: { items: spans } } } } },
  };
  let doc: unknown;
  try {
    doc = yield* parseFramed(text.replace(LONG_INT64_LITERAL, '"$1"$2"$3"'), descent);
  } catch (err) {
    if (err instanceof OtlpLimitError) throw err;
    throw new OtlpDecodeError('body is not valid JSON');
  }
  if (!isObject(doc)) throw new OtlpDecodeError('body: expected a JSON object (ExportTraceServiceRequest)');
  const all = list(doc.resourceSpans, 'resourceSpans');
  const resourceSpans: OtlpResourceSpans[] = [];
  let n = 0;
  for (const [i, rs] of all.entries()) {
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
      for (const [k, span] of list(ss.spans, `${sPath}.spans`).entries()) {
        spans.push(jsonSpan(span, `${sPath}.spans[${k}]`, scope));
        if (++n % 32 === 0) yield;
      }
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
      parentSpanId: parentId(v.parentSpanId),
      name: optionalString(v.name, `${path}.name`),
      kind: jsonEnum(v.kind, SPAN_KIND_NAMES, `${path}.kind`),
      startTimeUnixNano: jsonUint64(v.startTimeUnixNano, `${path}.startTimeUnixNano`),
      endTimeUnixNano: jsonUint64(v.endTimeUnixNano, `${path}.endTimeUnixNano`),
      attributes: jsonAttributes(v.attributes, `${path}.attributes`, 0),
      statusCode: jsonEnum(status.code, STATUS_CODE_NAMES, `${path}.status.code`),
      statusMessage: optionalString(status.message, `${path}.status.message`),
      scope,
      ...jsonEvents(v.events, `${path}.events`),
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

function jsonEvents(v: unknown, path: string): Pick<OtlpSpan, 'exceptionType' | 'eventCounts'> {
  if (v === undefined || v === null) return {};
  const facts = new SpanEventFacts();
  for (const [i, e] of list(v, path).entries()) {
    if (!isObject(e)) throw new OtlpDecodeError(`${path}[${i}]: expected an object`);
    const name = optionalString(e.name, `${path}[${i}].name`);
    facts.note(name, () => {
      const t = jsonAttributes(e.attributes, `${path}[${i}].attributes`, MAX_VALUE_DEPTH).get(
        'exception.type',
      );
      return typeof t === 'string' && t !== '' ? t : undefined;
    });
  }
  return {
    ...(facts.exceptionType !== undefined && { exceptionType: facts.exceptionType }),
    ...(facts.counts !== undefined && { eventCounts: facts.counts }),
  };
}

function jsonAttributes(v: unknown, path: string, depth: number): Attributes {
  if (v === undefined || v === null) return EMPTY_ATTRIBUTES;
  if (!Array.isArray(v)) throw new OtlpDecodeError(`${path}: expected an array of {key, value}`);
  const map = new Map<string, AnyValue>();
  for (const [i, kv] of v.entries()) {
    if (map.size >= MAX_ATTRIBUTES) break;
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
    return list(values, `${path}.arrayValue.values`)
      .slice(0, MAX_ATTRIBUTES)
      .map((x, i) => jsonAnyValue(x, `${path}.arrayValue.values[${i}]`, depth + 1));
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

/**
 * The parent span id, or '' when it is absent or not 8 bytes: the parent only links a span to
 * its trace's identity (trace-identity.ts), and a span with a garbled link is still a span.
 */
function parentId(v: unknown): string {
  try {
    const id = jsonId(v, 8, 'parentSpanId');
    return id.length === 16 ? id : '';
  } catch {
    return '';
  }
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
