// The delivery loop (retries, per-item retry, bisection of refused batches), the `_bulk` answer
// reading, HTTP status classification and the syslog framing.
import { describe, expect, it } from 'vitest';
import {
  DELIVERED,
  deliver,
  type ExportRecord,
  type ExportSink,
  octetFrame,
  rfc5424,
  type SendResult,
} from '../../../src/export/index.js';
import { sortItems } from '../../../src/export/sinks/elastic-bulk.sink.js';
import { httpFailure } from '../../../src/export/sinks/http.js';
import { hecEndpoint } from '../../../src/export/sinks/splunk-hec.sink.js';
import { PermanentError, RetriableError } from '../../../src/model/index.js';
import { makeFinding } from '../../helpers/factories.js';

const findings = (n: number): ExportRecord[] =>
  Array.from({ length: n }, (_, i) => ({ kind: 'finding', value: makeFinding({ title: `f${i}` }) }));
const title = (r: ExportRecord) => (r.kind === 'finding' ? r.value.title : '');

function fakeSink(
  send: (records: readonly ExportRecord[], call: number) => SendResult | Promise<SendResult>,
) {
  const calls: string[][] = [];
  const sink: ExportSink = {
    name: 'fake',
    async send(records) {
      calls.push(records.map(title));
      return send(records, calls.length);
    },
    async close() {},
  };
  return { sink, calls };
}

const fast = { baseMs: 1, capMs: 5 };

describe('deliver', () => {
  it('retries a batch until the sink takes it', async () => {
    const { sink, calls } = fakeSink((_r, call) => {
      if (call < 3) throw new RetriableError('busy');
      return DELIVERED;
    });
    const report = await deliver(sink, findings(4), fast);
    expect(report).toMatchObject({ delivered: 4, rejected: [], retries: 2 });
    expect(calls).toHaveLength(3);
  });

  it('treats an untyped failure (network) as retriable, and gives up only when told to', async () => {
    const { sink } = fakeSink(() => {
      throw new TypeError('fetch failed');
    });
    await expect(deliver(sink, findings(1), { ...fast, maxAttempts: 3 })).rejects.toThrow('fetch failed');
  });

  it('re-sends only the records the sink asked to retry', async () => {
    const { sink, calls } = fakeSink((records, call) =>
      call === 1
        ? { retry: records.slice(1, 2), rejected: [{ record: records[2]!, reason: 'mapping' }] }
        : DELIVERED,
    );
    const report = await deliver(sink, findings(3), fast);
    expect(calls).toEqual([['f0', 'f1', 'f2'], ['f1']]);
    expect(report.delivered).toBe(2);
    expect(report.rejected.map((r) => title(r.record))).toEqual(['f2']);
  });

  it('bisects a refused batch until the bad record is alone, and delivers the rest', async () => {
    const { sink } = fakeSink((records) => {
      if (records.some((r) => title(r) === 'f5')) throw new PermanentError('400 invalid data');
      return DELIVERED;
    });
    const report = await deliver(sink, findings(8), fast);
    expect(report.delivered).toBe(7);
    expect(report.rejected).toHaveLength(1);
    expect(title(report.rejected[0]!.record)).toBe('f5');
    expect(report.rejected[0]!.reason).toContain('400');
  });

  it('stops waiting when aborted', async () => {
    const { sink } = fakeSink(() => {
      throw new RetriableError('down');
    });
    const abort = new AbortController();
    setTimeout(() => abort.abort(new Error('stopped')), 30);
    await expect(deliver(sink, findings(1), { baseMs: 10_000, signal: abort.signal })).rejects.toThrow(
      'stopped',
    );
  });
});

describe('sinks: answers and framing', () => {
  it('classifies HTTP answers: retry on 429/5xx and auth problems, refuse other 4xx', () => {
    expect(httpFailure('x', 503, '', '2').name).toBe('RetriableError');
    expect((httpFailure('x', 503, '', '2') as { retryAfterMs?: number }).retryAfterMs).toBe(2000);
    expect(httpFailure('x', 429, '', null).name).toBe('RetriableError');
    expect(httpFailure('x', 403, '', null).message).toContain('credentials');
    expect(httpFailure('x', 403, '', null).name).toBe('RetriableError');
    expect(httpFailure('x', 400, '{"code":6}', null).name).toBe('PermanentError');
  });

  it('reads a _bulk answer item by item (409 on create = already stored)', () => {
    const rs = findings(5);
    const out = sortItems(rs, [
      { create: { status: 201 } },
      { create: { status: 409, error: { type: 'version_conflict_engine_exception' } } },
      { create: { status: 429, error: { type: 'es_rejected_execution_exception' } } },
      { create: { status: 400, error: { type: 'document_parsing_exception', reason: 'bad field' } } },
    ]);
    expect(out.retry.map(title)).toEqual(['f2', 'f4']);
    expect(out.rejected.map((r) => title(r.record))).toEqual(['f3']);
    expect(out.rejected[0]!.reason).toContain('document_parsing_exception');
  });

  it('finds the HEC endpoint from a base URL or the endpoint itself', () => {
    expect(hecEndpoint('https://s:8088')).toBe('https://s:8088/services/collector/event');
    expect(hecEndpoint('https://s:8088/')).toBe('https://s:8088/services/collector/event');
    expect(hecEndpoint('https://s:8088/services/collector')).toBe('https://s:8088/services/collector/event');
    expect(hecEndpoint('https://s:8088/services/collector/event')).toBe(
      'https://s:8088/services/collector/event',
    );
  });

  it('frames RFC 5424 messages with octet counting (bytes, not characters)', () => {
    const msg = rfc5424('CEF:0|vigil|vigil|1|s|näme ✓|3|', {
      facility: 10,
      severity: 5,
      time: Date.UTC(2026, 0, 2, 3, 4, 5, 6),
      hostname: 'host one',
      msgId: 'finding',
    });
    expect(msg).toBe(
      '<85>1 2026-01-02T03:04:05.006Z hostone vigil - finding - CEF:0|vigil|vigil|1|s|näme ✓|3|',
    );
    const frame = octetFrame(msg);
    const space = frame.indexOf(0x20);
    expect(Number(frame.subarray(0, space).toString())).toBe(frame.length - space - 1);
    expect(Number(frame.subarray(0, space).toString())).toBeGreaterThan(msg.length);
  });
});
