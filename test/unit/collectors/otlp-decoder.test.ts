// OTLP ExportTraceServiceRequest decoding (protobuf and OTLP/JSON) into the internal span shape,
// and ExportTraceServiceResponse encoding. Protobuf inputs come from the test encoder
// (test/helpers/otlp-proto.ts, protobufjs' Writer over opentelemetry-proto's field numbers).
import { describe, expect, it } from 'vitest';
import {
  type AnyValue,
  decodeExportResponseProto,
  decodeTraceRequestJson,
  decodeTraceRequestProto,
  encodeExportResponseJson,
  encodeExportResponseProto,
  MAX_ATTRIBUTES,
  OtlpDecodeError,
  OtlpLimitError,
  type OtlpSpan,
} from '../../../src/collectors/otlp/otlp.decoder.js';
import { encodeTraceRequest as encodeRequest } from '../../helpers/otlp-proto.js';

const TRACE = Buffer.from('5b8efff798038103d269b633813fc60c', 'hex');
const SPAN = Buffer.from('eee19b7ec3c1b174', 'hex');
/** 2026-11-02T10:00:00.123456789Z: beyond Number.MAX_SAFE_INTEGER in nanoseconds. */
const START = 1_793_613_600_123_456_789n;
const END = START + 1_500_000n;

function onlySpan(req: { resourceSpans: Array<{ spans: OtlpSpan[] }> }): OtlpSpan {
  expect(req.resourceSpans).toHaveLength(1);
  expect(req.resourceSpans[0]!.spans).toHaveLength(1);
  return req.resourceSpans[0]!.spans[0]!;
}

// ----------------------------------------------------------------------------- protobuf

describe('decodeTraceRequestProto', () => {
  it('reads ids as hex, name, kind, exact nanosecond times, status and scope', () => {
    const bytes = encodeRequest([
      {
        attrs: [
          ['service.name', 'rag-api'],
          ['vigil.tenant', 'acme'],
        ],
        scope: '@opentelemetry/instrumentation-pg',
        spans: [
          {
            traceId: TRACE,
            spanId: SPAN,
            name: 'qdrant.search',
            kind: 3,
            start: START,
            end: END,
            status: { code: 2, message: 'boom' },
          },
        ],
      },
    ]);
    const req = decodeTraceRequestProto(bytes);
    const span = onlySpan(req);
    expect(span).toMatchObject({
      traceId: '5b8efff798038103d269b633813fc60c',
      spanId: 'eee19b7ec3c1b174',
      name: 'qdrant.search',
      kind: 3,
      startTimeUnixNano: START,
      endTimeUnixNano: END,
      statusCode: 2,
      statusMessage: 'boom',
      scope: '@opentelemetry/instrumentation-pg',
    });
    expect(span.defect).toBeUndefined();
    expect(Object.fromEntries(req.resourceSpans[0]!.resource)).toEqual({
      'service.name': 'rag-api',
      'vigil.tenant': 'acme',
    });
  });

  it('decodes every AnyValue kind, int64 beyond 2^53 and negative ones included', () => {
    const span = onlySpan(
      decodeTraceRequestProto(
        encodeRequest([
          {
            spans: [
              {
                traceId: TRACE,
                spanId: SPAN,
                attrs: [
                  ['s', 'text'],
                  ['b', true],
                  ['i', 9_007_199_254_740_993n],
                  ['neg', -42n],
                  ['d', 0.25],
                  ['bytes', new Uint8Array([1, 2, 3])],
                  ['arr', ['a', 5n, false]],
                  ['kv', { kv: [['inner', 'x']] }],
                ],
              },
            ],
          },
        ]),
      ),
    );
    const a = span.attributes;
    expect(a.get('s')).toBe('text');
    expect(a.get('b')).toBe(true);
    expect(a.get('i')).toBe(9_007_199_254_740_993n);
    expect(a.get('neg')).toBe(-42n);
    expect(a.get('d')).toBe(0.25);
    expect([...(a.get('bytes') as Uint8Array)]).toEqual([1, 2, 3]);
    expect(a.get('arr')).toEqual(['a', 5n, false]);
    expect((a.get('kv') as ReadonlyMap<string, AnyValue>).get('inner')).toBe('x');
  });

  it('skips fields it does not need, at every level, and takes a scope written after the spans', () => {
    const req = decodeTraceRequestProto(
      encodeRequest([
        {
          scope: 'late-scope',
          scopeAfterSpans: true,
          spans: [
            { traceId: TRACE, spanId: SPAN, name: 'a', noise: true, start: START, attrs: [['k', 'v']] },
            { traceId: TRACE, spanId: SPAN, name: 'b', noise: true },
          ],
        },
      ]),
    );
    const spans = req.resourceSpans[0]!.spans;
    expect(spans.map((s) => [s.name, s.scope])).toEqual([
      ['a', 'late-scope'],
      ['b', 'late-scope'],
    ]);
    expect(spans[0]!.startTimeUnixNano).toBe(START);
    expect(spans[0]!.attributes.get('k')).toBe('v');
  });

  it('keeps several resources apart', () => {
    const req = decodeTraceRequestProto(
      encodeRequest([
        { attrs: [['service.name', 'one']], spans: [{ name: 'x' }] },
        { attrs: [['service.name', 'two']], spans: [{ name: 'y' }, { name: 'z' }] },
      ]),
    );
    expect(req.resourceSpans.map((r) => [r.resource.get('service.name'), r.spans.length])).toEqual([
      ['one', 1],
      ['two', 2],
    ]);
  });

  it('takes an empty body for the empty request', () => {
    expect(decodeTraceRequestProto(new Uint8Array(0))).toEqual({ resourceSpans: [] });
  });

  it('refuses truncated bytes, wrong wire types and text that is not protobuf', () => {
    const good = encodeRequest([{ spans: [{ traceId: TRACE, spanId: SPAN, name: 'x', start: START }] }]);
    expect(() => decodeTraceRequestProto(good.subarray(0, good.length - 3))).toThrow(OtlpDecodeError);
    // resource_spans (field 1) as a varint
    expect(() => decodeTraceRequestProto(Uint8Array.from([0x08, 0x01]))).toThrow(/wire type/);
    expect(() => decodeTraceRequestProto(Buffer.from('{"resourceSpans":[]}'))).toThrow(OtlpDecodeError);
    expect(() => decodeTraceRequestProto(Uint8Array.from([0x00, 0x00]))).toThrow(OtlpDecodeError);
  });
});

// -------------------------------------------------------------------------------- JSON

const jsonSpan = (over: Record<string, unknown> = {}) => ({
  traceId: '5B8EFFF798038103D269B633813FC60C',
  spanId: 'eee19b7ec3c1b174',
  name: 'pinecone.query',
  kind: 3,
  startTimeUnixNano: START.toString(),
  endTimeUnixNano: END.toString(),
  attributes: [{ key: 'pinecone.query.top_k', value: { intValue: '10' } }],
  status: { code: 1 },
  ...over,
});

const jsonRequest = (spans: unknown[], resourceAttrs: unknown[] = []) =>
  JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: resourceAttrs },
        scopeSpans: [{ scope: { name: 'opentelemetry.instrumentation.pinecone' }, spans }],
      },
    ],
  });

describe('decodeTraceRequestJson', () => {
  it('reads lowerCamelCase OTLP/JSON with hex ids (normalised to lower case) and string int64', () => {
    const req = decodeTraceRequestJson(
      jsonRequest([jsonSpan()], [{ key: 'service.name', value: { stringValue: 'rag-api' } }]),
    );
    const span = onlySpan(req);
    expect(span).toMatchObject({
      traceId: '5b8efff798038103d269b633813fc60c',
      spanId: 'eee19b7ec3c1b174',
      name: 'pinecone.query',
      kind: 3,
      startTimeUnixNano: START,
      endTimeUnixNano: END,
      statusCode: 1,
      scope: 'opentelemetry.instrumentation.pinecone',
    });
    expect(span.attributes.get('pinecone.query.top_k')).toBe(10n);
    expect(req.resourceSpans[0]!.resource.get('service.name')).toBe('rag-api');
  });

  it('accepts base64 ids (protobuf JSON mapping) and normalises them to hex', () => {
    const span = onlySpan(
      decodeTraceRequestJson(
        jsonRequest([jsonSpan({ traceId: TRACE.toString('base64'), spanId: SPAN.toString('base64') })]),
      ),
    );
    expect(span.traceId).toBe(TRACE.toString('hex'));
    expect(span.spanId).toBe(SPAN.toString('hex'));
    const url = onlySpan(
      decodeTraceRequestJson(jsonRequest([jsonSpan({ traceId: TRACE.toString('base64url') })])),
    );
    expect(url.traceId).toBe(TRACE.toString('hex'));
  });

  it('keeps nanosecond times and int64 exact when sent as bare JSON numbers', () => {
    const text = jsonRequest([jsonSpan()])
      .replace(`"${START}"`, START.toString())
      .replace('{"intValue":"10"}', '{"intValue":9007199254740993}');
    expect(text).toContain(`"startTimeUnixNano":${START}`);
    const span = onlySpan(decodeTraceRequestJson(Buffer.from(text)));
    expect(span.startTimeUnixNano).toBe(START);
    expect(span.attributes.get('pinecone.query.top_k')).toBe(9_007_199_254_740_993n);
  });

  it('reads enums given as integers or names, and every AnyValue kind', () => {
    const span = onlySpan(
      decodeTraceRequestJson(
        jsonRequest([
          jsonSpan({
            kind: 'SPAN_KIND_CLIENT',
            status: { code: 'STATUS_CODE_ERROR', message: 'x' },
            attributes: [
              { key: 'b', value: { boolValue: false } },
              { key: 'd', value: { doubleValue: 1.5 } },
              { key: 'nan', value: { doubleValue: 'NaN' } },
              { key: 'i', value: { intValue: 7 } },
              { key: 'bytes', value: { bytesValue: Buffer.from([9, 8]).toString('base64') } },
              { key: 'arr', value: { arrayValue: { values: [{ stringValue: 'a' }, { intValue: '2' }] } } },
              { key: 'kv', value: { kvlistValue: { values: [{ key: 'in', value: { stringValue: 'y' } }] } } },
              { key: 'empty', value: {} },
            ],
            unknownField: { anything: true },
          }),
        ]),
      ),
    );
    expect(span.kind).toBe(3);
    expect(span.statusCode).toBe(2);
    expect(span.statusMessage).toBe('x');
    const a = span.attributes;
    expect(a.get('b')).toBe(false);
    expect(a.get('d')).toBe(1.5);
    expect(a.get('nan')).toBeNaN();
    expect(a.get('i')).toBe(7n);
    expect([...(a.get('bytes') as Uint8Array)]).toEqual([9, 8]);
    expect(a.get('arr')).toEqual(['a', 2n]);
    expect((a.get('kv') as ReadonlyMap<string, AnyValue>).get('in')).toBe('y');
    expect(a.has('empty')).toBe(true);
    expect(a.get('empty')).toBeUndefined();
  });

  it('turns a span it cannot read into a defect naming the field, not the value', () => {
    const req = decodeTraceRequestJson(
      jsonRequest([
        jsonSpan({ startTimeUnixNano: 'alice@example.com' }),
        jsonSpan({ traceId: '!!not an id!!' }),
        jsonSpan(),
      ]),
    );
    const [bad1, bad2, ok] = req.resourceSpans[0]!.spans;
    expect(bad1!.defect).toBe(
      'resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano: expected an integer (number or decimal string)',
    );
    expect(bad2!.defect).toMatch(/spans\[1\]\.traceId/);
    expect(`${bad1!.defect} ${bad2!.defect}`).not.toMatch(/alice|not an id/);
    expect(ok!.defect).toBeUndefined();
  });

  it('refuses a body that is not JSON or not shaped like a request', () => {
    expect(() => decodeTraceRequestJson('{"resourceSpans": [')).toThrow('body is not valid JSON');
    expect(() => decodeTraceRequestJson('[]')).toThrow(OtlpDecodeError);
    expect(() => decodeTraceRequestJson('{"resourceSpans": {}}')).toThrow(/resourceSpans: expected an array/);
    expect(() => decodeTraceRequestJson(Buffer.from([0xff, 0xfe]))).toThrow(/UTF-8/);
  });

  it('takes an empty body or an empty object for the empty request', () => {
    expect(decodeTraceRequestJson('')).toEqual({ resourceSpans: [] });
    expect(decodeTraceRequestJson('{}')).toEqual({ resourceSpans: [] });
  });
});

// ---------------------------------------------------------------------------- response

describe('ExportTraceServiceResponse', () => {
  it('is the empty message on full success', () => {
    expect(encodeExportResponseProto({ rejectedSpans: 0, errorMessage: '' })).toHaveLength(0);
    expect(encodeExportResponseJson({ rejectedSpans: 0, errorMessage: '' })).toBe('{}');
  });

  it('carries partial_success {rejected_spans, error_message}', () => {
    const result = { rejectedSpans: 3, errorMessage: '3 spans rejected: trace_id: must be 16 bytes (3)' };
    const bytes = encodeExportResponseProto(result);
    // field 1, length-delimited, then rejected_spans (field 1 varint) = 3
    expect([...bytes.subarray(0, 1)]).toEqual([0x0a]);
    expect([...bytes.subarray(2, 4)]).toEqual([0x08, 0x03]);
    expect(decodeExportResponseProto(bytes)).toEqual(result);
    expect(JSON.parse(encodeExportResponseJson(result))).toEqual({
      partialSuccess: { rejectedSpans: '3', errorMessage: result.errorMessage },
    });
  });
});

// ----------------------------------------------------------------------------- hostile requests

describe('decoding hostile requests', () => {
  const attrs = (n: number) => Array.from({ length: n }, (_, i): [string, string] => [`k${i}`, 'v']);

  it('refuses more spans than the limit (OtlpLimitError), in protobuf and in JSON', () => {
    const spans = Array.from({ length: 11 }, () => ({ name: 's' }));
    const proto = encodeRequest([{ spans }]);
    expect(() => decodeTraceRequestProto(proto, { maxSpans: 10 })).toThrow(OtlpLimitError);
    expect(() => decodeTraceRequestProto(proto, { maxSpans: 10 })).toThrow(/more than 10 spans/);
    expect(decodeTraceRequestProto(proto, { maxSpans: 11 }).resourceSpans[0]!.spans).toHaveLength(11);
    const json = JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: spans.map(() => ({})) }] }] });
    expect(() => decodeTraceRequestJson(json, { maxSpans: 10 })).toThrow(OtlpLimitError);
    expect(decodeTraceRequestJson(json, { maxSpans: 11 }).resourceSpans[0]!.spans).toHaveLength(11);
  });

  it(`keeps the first ${MAX_ATTRIBUTES} attributes of a span or resource and skips the rest`, () => {
    const many = attrs(MAX_ATTRIBUTES + 500);
    const proto = encodeRequest([{ attrs: many, spans: [{ name: 's', attrs: many }] }]);
    const req = decodeTraceRequestProto(proto);
    expect(req.resourceSpans[0]!.resource.size).toBe(MAX_ATTRIBUTES);
    const span = onlySpan(req);
    expect(span.attributes.size).toBe(MAX_ATTRIBUTES);
    expect(span.attributes.get('k0')).toBe('v');
    expect(span.attributes.has(`k${MAX_ATTRIBUTES}`)).toBe(false);
    const json = JSON.stringify({
      resourceSpans: [
        {
          scopeSpans: [
            { spans: [{ attributes: many.map(([key]) => ({ key, value: { stringValue: 'v' } })) }] },
          ],
        },
      ],
    });
    expect(onlySpan(decodeTraceRequestJson(json)).attributes.size).toBe(MAX_ATTRIBUTES);
  });

  it('gives every span the last scope of its message, however many scope fields follow the spans', () => {
    const bytes = encodeRequest([
      { scope: 'first', scopeAfterSpans: true, spans: [{ name: 'a' }, { name: 'b' }] },
    ]);
    const req = decodeTraceRequestProto(bytes);
    expect(req.resourceSpans[0]!.spans.map((s) => s.scope)).toEqual(['first', 'first']);
  });

  it('answers JSON nested deeper than 64 levels with a decode error naming the depth', () => {
    const kvlist = (depth: number) =>
      `{"resourceSpans":[{"resource":{"attributes":[{"key":"k","value":${'{"kvlistValue":{"values":[{"key":"x","value":'.repeat(depth)}{}${'}]}}'.repeat(depth)}}]}}]}`;
    expect(() => decodeTraceRequestJson(kvlist(30))).toThrow(/nested deeper than 64 levels/);
    expect(() => decodeTraceRequestJson(`${'['.repeat(100_000)}${']'.repeat(100_000)}`)).toThrow(
      OtlpDecodeError,
    );
    // Real requests nest far less: a kvlist 8 deep (the deepest followed) is fine.
    expect(decodeTraceRequestJson(kvlist(8)).resourceSpans).toHaveLength(1);
  });
});
