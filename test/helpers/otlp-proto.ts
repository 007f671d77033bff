// Test-side encoder of OTLP `ExportTraceServiceRequest` protobuf bytes, written with protobufjs'
// Writer from opentelemetry-proto's field numbers (collector/trace/v1, trace/v1, common/v1,
// resource/v1). Can add the fields a receiver must skip (events, links, trace state, unknown ones).
import protobuf from 'protobufjs/minimal.js';

const { Writer } = protobuf;
type Writer = protobuf.Writer;

export type Value =
  | string
  | boolean
  | bigint
  | number
  | Uint8Array
  | Value[]
  | { kv: Array<[string, Value]> };

export interface SpanSpec {
  traceId?: Uint8Array;
  spanId?: Uint8Array;
  name?: string;
  kind?: number;
  start?: bigint;
  end?: bigint;
  attrs?: Array<[string, Value]>;
  status?: { code?: number; message?: string };
  /** Fields a decoder must skip: trace_state(3), parent_span_id(4), events(11), links(13), flags(16), 99. */
  noise?: boolean;
}

export interface ResourceSpec {
  attrs?: Array<[string, Value]>;
  scope?: string;
  scopeAfterSpans?: boolean;
  spans: SpanSpec[];
}

const tag = (field: number, wire: number) => (field << 3) | wire;

function writeAnyValue(w: Writer, v: Value): void {
  if (typeof v === 'string') w.uint32(tag(1, 2)).string(v);
  else if (typeof v === 'boolean') w.uint32(tag(2, 0)).bool(v);
  else if (typeof v === 'bigint') w.uint32(tag(3, 0)).int64(v.toString());
  else if (typeof v === 'number') w.uint32(tag(4, 1)).double(v);
  else if (v instanceof Uint8Array) w.uint32(tag(7, 2)).bytes(v);
  else if (Array.isArray(v)) {
    w.uint32(tag(5, 2)).fork();
    for (const item of v) {
      w.uint32(tag(1, 2)).fork();
      writeAnyValue(w, item);
      w.ldelim();
    }
    w.ldelim();
  } else {
    w.uint32(tag(6, 2)).fork();
    for (const kv of v.kv) {
      w.uint32(tag(1, 2)).fork();
      writeKeyValue(w, kv);
      w.ldelim();
    }
    w.ldelim();
  }
}

function writeKeyValue(w: Writer, [key, value]: [string, Value]): void {
  w.uint32(tag(1, 2)).string(key);
  w.uint32(tag(2, 2)).fork();
  writeAnyValue(w, value);
  w.ldelim();
}

function writeFixed64(w: Writer, field: number, v: bigint): void {
  w.uint32(tag(field, 1))
    .fixed32(Number(v & 0xffffffffn))
    .fixed32(Number(v >> 32n));
}

function writeSpan(w: Writer, s: SpanSpec): void {
  if (s.noise) w.uint32(tag(3, 2)).string('vendor=1');
  if (s.traceId) w.uint32(tag(1, 2)).bytes(s.traceId);
  if (s.spanId) w.uint32(tag(2, 2)).bytes(s.spanId);
  if (s.noise) w.uint32(tag(4, 2)).bytes(new Uint8Array(8).fill(9));
  if (s.name !== undefined) w.uint32(tag(5, 2)).string(s.name);
  if (s.kind !== undefined) w.uint32(tag(6, 0)).int32(s.kind);
  if (s.start !== undefined) writeFixed64(w, 7, s.start);
  if (s.end !== undefined) writeFixed64(w, 8, s.end);
  for (const kv of s.attrs ?? []) {
    w.uint32(tag(9, 2)).fork();
    writeKeyValue(w, kv);
    w.ldelim();
  }
  if (s.noise) {
    // An event {time(1), name(2), attributes(3)} and a link {trace_id(1), span_id(2)}.
    w.uint32(tag(11, 2)).fork();
    writeFixed64(w, 1, 1n);
    w.uint32(tag(2, 2)).string('exception');
    w.ldelim();
    w.uint32(tag(13, 2)).fork().uint32(tag(1, 2)).bytes(new Uint8Array(16)).ldelim();
    w.uint32(tag(16, 5)).fixed32(0x301);
    w.uint32(tag(99, 0)).uint32(7);
  }
  if (s.status) {
    w.uint32(tag(15, 2)).fork();
    if (s.status.message !== undefined) w.uint32(tag(2, 2)).string(s.status.message);
    if (s.status.code !== undefined) w.uint32(tag(3, 0)).int32(s.status.code);
    w.ldelim();
  }
}

export function encodeTraceRequest(resources: ResourceSpec[]): Uint8Array {
  const w = Writer.create();
  for (const r of resources) {
    w.uint32(tag(1, 2)).fork();
    w.uint32(tag(1, 2)).fork();
    for (const kv of r.attrs ?? []) {
      w.uint32(tag(1, 2)).fork();
      writeKeyValue(w, kv);
      w.ldelim();
    }
    w.uint32(tag(2, 0)).uint32(0); // dropped_attributes_count
    w.ldelim();
    w.uint32(tag(2, 2)).fork();
    const scope = () => {
      if (r.scope !== undefined)
        w.uint32(tag(1, 2)).fork().uint32(tag(1, 2)).string(r.scope).uint32(tag(2, 2)).string('1.0').ldelim();
    };
    if (!r.scopeAfterSpans) scope();
    for (const s of r.spans) {
      w.uint32(tag(2, 2)).fork();
      writeSpan(w, s);
      w.ldelim();
    }
    if (r.scopeAfterSpans) scope();
    w.uint32(tag(3, 2)).string('https://opentelemetry.io/schemas/1.30.0');
    w.ldelim();
    w.uint32(tag(3, 2)).string('https://opentelemetry.io/schemas/1.30.0');
    w.ldelim();
  }
  return w.finish();
}
