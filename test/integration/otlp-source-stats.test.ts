// What a user wiring a new source sees: the spans of an instrumented app (official SDK, official
// exporter, extra attributes as real instrumentations add them) counted as received / mapped /
// not a database operation / rejected by reason, and the attribute keys vigil did not read, by
// name only: through GET /v1/sources, the `vigil sources` CLI, the source_stats table and the
// pipeline-health dashboard's panels.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { SpanKind } from '@opentelemetry/api';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceReport } from '../../src/collectors/source-stats.js';
import { VIGIL_BIN } from '../helpers/child.js';
import { renderGrafanaSql } from '../helpers/grafana-macros.js';
import { uniqueName } from '../helpers/services.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';
import { waitFor } from '../helpers/wait.js';

const SECRET = 'alice@example.com';

/** A RAG app's spans for one request: an HTTP server span, a Qdrant search, a malformed DB span. */
function appSpans(tenant: string): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'rag-api', 'vigil.tenant': tenant }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const tracer = provider.getTracer('vigil-source-stats-test');
  const server = tracer.startSpan('POST /ask', {
    kind: SpanKind.SERVER,
    attributes: { 'http.request.method': 'POST', 'url.path': '/ask', 'enduser.id': SECRET },
  });
  server.end();
  const search = tracer.startSpan('qdrant.search', {
    kind: SpanKind.CLIENT,
    attributes: {
      'db.system': 'qdrant',
      'qdrant.search.collection_name': 'docs',
      'db.vector.query.top_k': 5,
      // What vigil does not read (today): names to be listed, values never.
      'qdrant.search.with_payload': true,
      'db.operation.batch.size': 3, // read (kept as an attribute): not listed
      'llm.prompts.0.content': SECRET,
      [`note for ${SECRET}`]: 'x',
    },
  });
  search.end();
  const bad = tracer.startSpan('milvus.search', {
    kind: SpanKind.CLIENT,
    attributes: { 'db.system': 'x'.repeat(65), 'db.milvus.search.collection_name': 'c' },
  });
  bad.end();
  return memory.getFinishedSpans();
}

describe('what vigil did not map, per source (real SDK spans)', () => {
  let v: TestVigil;
  let tenant: string;
  beforeAll(async () => {
    v = await startTestVigil({ env: { VIGIL_SOURCE_STATS_INTERVAL: '1s' } });
    tenant = uniqueName('ss');
    const exporter = new ProtoExporter({
      url: `${v.app.otlpHttpUrl}/v1/traces`,
      headers: { authorization: `Bearer ${v.app.sourceTokens.otlp}` },
    });
    const result = await new Promise<{ code: number }>((r) => exporter.export(appSpans(tenant), r));
    await exporter.shutdown();
    expect(result.code).toBe(0);
  });
  afterAll(async () => v?.stop());

  const expectReport = (otlp: SourceReport | undefined) => {
    expect(otlp).toMatchObject({
      source: 'otlp',
      received: 3,
      mapped: 1,
      not_db: 1,
      rejected: 1,
      rejected_by_reason: [{ reason: 'db.system.name: must be at most 64 characters', count: 1 }],
      examined: 1,
    });
    expect(otlp!.unused_keys).toEqual(
      expect.arrayContaining([
        { key: 'qdrant.search.with_payload', items: 1 },
        { key: 'llm.prompts.#.content', items: 1 },
        { key: '(nonconforming key)', items: 1 },
      ]),
    );
    const keys = otlp!.unused_keys.map((k) => k.key);
    // Read by the mapper: not listed. The HTTP span's keys: not a mapped item, not listed.
    for (const used of [
      'db.system',
      'qdrant.search.collection_name',
      'db.vector.query.top_k',
      'db.operation.batch.size',
      'http.request.method',
    ])
      expect(keys).not.toContain(used);
  };

  it('GET /v1/sources: figures and unused key names, never values; authenticated', async () => {
    const url = `${v.app.adminUrl}/v1/sources?top=50`;
    const res = await fetch(url, { headers: { authorization: `Bearer ${v.app.adminToken}` } });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain('alice');
    expectReport((JSON.parse(text) as { sources: SourceReport[] }).sources.find((s) => s.source === 'otlp'));
    expect((await fetch(url)).status).toBe(401);
    const bad = await fetch(`${v.app.adminUrl}/v1/sources?top=0`, {
      headers: { authorization: `Bearer ${v.app.adminToken}` },
    });
    expect([bad.status, await bad.json()]).toEqual([400, { error: 'top: a whole number from 1 to 100' }]);
  });

  it('writes the figures to source_stats, where the pipeline-health panels read them', async () => {
    const stored = await waitFor(
      async () =>
        v.app.store.client.query<{ figure: string; label: string; n: string }>(
          `SELECT figure, label, sum(count) AS n FROM source_stats GROUP BY figure, label`,
        ),
      (r) => r.some((x) => x.figure === 'unused_key'),
      { timeoutMs: 10_000, what: 'source figures in the store' },
    );
    expect(JSON.stringify(stored)).not.toContain('alice');
    const dashboard = JSON.parse(
      readFileSync(path.resolve(import.meta.dirname, '../../dashboards/pipeline-health.json'), 'utf8'),
    ) as { panels: Array<{ title: string; targets: Array<{ rawSql: string }> }> };
    const panel = (title: string) => dashboard.panels.find((p) => p.title === title)!.targets[0]!.rawSql;
    const ctx = {
      from: Date.now() - 3_600_000,
      to: Date.now() + 60_000,
      intervalMs: 60_000,
      variables: { tenant: '__all', datasource: 'vigil-clickhouse' },
    };
    const run = async (sql: string) =>
      v.app.store.client.query<Record<string, string | number>>(renderGrafanaSql(sql, ctx));
    const mapping = await run(panel('Source mapping (received, mapped, rejected by reason)'));
    expect(mapping.map((r) => [r.source, r.figure, r.reason, Number(r.items)])).toEqual(
      expect.arrayContaining([
        ['otlp', 'received', '', 3],
        ['otlp', 'mapped', '', 1],
        ['otlp', 'rejected', 'db.system.name: must be at most 64 characters', 1],
      ]),
    );
    const keys = await run(panel('Attribute keys vigil did not use'));
    expect(keys.map((r) => r.key)).toEqual(
      expect.arrayContaining(['qdrant.search.with_payload', 'llm.prompts.#.content']),
    );
  });

  it('vigil sources (the CLI, through the running admin API) lists the same', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [VIGIL_BIN, 'sources', '--format', 'json', '--since', '1h'],
      {
        env: {
          ...process.env,
          VIGIL_DATA_DIR: v.dataDir,
          VIGIL_ADMIN_PORT: new URL(v.app.adminUrl).port,
          VIGIL_LOG_LEVEL: 'warn',
        },
      },
    );
    expect(stdout).not.toContain('alice');
    expectReport((JSON.parse(stdout) as SourceReport[]).find((s) => s.source === 'otlp'));
  });
});
