// The golden spans of test/fixtures/otel-capture (scripts/capture-spans.sh), decoded as vigil
// decodes an OTLP/JSON export, with their times moved to just before the test's clock: the
// fixtures keep the times of their capture, and no test may depend on the day it runs.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { decodeTraceRequestJson, type ExportTraceRequest } from '../../src/collectors/otlp/otlp.decoder.js';

export const CAPTURED = ['qdrant', 'chromadb', 'milvus', 'lancedb', 'weaviate', 'pinecone', 'marqo'] as const;
export type Captured = (typeof CAPTURED)[number];

const DIR = path.join(import.meta.dirname, '..', 'fixtures', 'otel-capture');

interface JsonSpan {
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  events?: { timeUnixNano?: string }[];
}

/** The package versions a capture was made with (its `x-vigil-capture` entry). */
export function captureVersions(vendor: Captured): Record<string, string> {
  return JSON.parse(readFileSync(path.join(DIR, `${vendor}.json`), 'utf8'))['x-vigil-capture'];
}

/** The capture of one instrumentation, its last span ending `nowMs - 1000`. */
export function capturedRequest(vendor: Captured, nowMs: number): ExportTraceRequest {
  const doc = JSON.parse(readFileSync(path.join(DIR, `${vendor}.json`), 'utf8'));
  const spans: JsonSpan[] = doc.resourceSpans.flatMap((rs: { scopeSpans: { spans: JsonSpan[] }[] }) =>
    rs.scopeSpans.flatMap((ss) => ss.spans),
  );
  const last = spans.reduce((m, s) => (BigInt(s.endTimeUnixNano) > m ? BigInt(s.endTimeUnixNano) : m), 0n);
  const shift = BigInt(nowMs - 1000) * 1_000_000n - last;
  const moved = (t: string) => String(BigInt(t) + shift);
  for (const s of spans) {
    s.startTimeUnixNano = moved(s.startTimeUnixNano);
    s.endTimeUnixNano = moved(s.endTimeUnixNano);
    for (const e of s.events ?? []) if (e.timeUnixNano) e.timeUnixNano = moved(e.timeUnixNano);
  }
  delete doc['x-vigil-capture'];
  return decodeTraceRequestJson(JSON.stringify(doc));
}
