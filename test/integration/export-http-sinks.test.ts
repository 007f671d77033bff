// Streaming export to Splunk HEC and Elasticsearch `_bulk`, against local receivers that check the
// documented request shapes and answer the documented way — a 503 before success, a partial
// `_bulk` failure — with records read from the real store past each sink's checkpoint.
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import {
  createElasticBulkSink,
  createOcsfFileSink,
  createSplunkHecSink,
  type ExportSinkRunner,
  loadExportCheckpoints,
  startExportSink,
} from '../../src/export/index.js';
import type { Finding } from '../../src/model/index.js';
import {
  actionRow,
  findingRow,
  incidentRow,
  migrate,
  openStore,
  type StoreHandle,
} from '../../src/store/index.js';
import { makeFinding } from '../helpers/factories.js';
import { makeAction, makeIncident } from '../helpers/export-records.js';
import { tempDataDir, uniqueName } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { testTime } from '../helpers/clock.js';

/** Splits HEC's body: JSON objects written one after another, with or without white space. */
function concatenatedJson(text: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') {
      if (depth++ === 0) start = i;
    } else if (c === '}' && --depth === 0) out.push(JSON.parse(text.slice(start, i + 1)));
  }
  if (depth !== 0) throw new Error('unbalanced HEC body');
  return out;
}

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address() as { port: number };
  return `http://127.0.0.1:${addr.port}`;
}

describe('HTTP export sinks', () => {
  let store: StoreHandle;
  const runners: ExportSinkRunner[] = [];
  const servers: FastifyInstance[] = [];

  beforeAll(async () => {
    const config = loadConfig({ VIGIL_DATA_DIR: tempDataDir() });
    store = await openStore(config.env, config.dataDir);
    await migrate(store.client, { eventsTtlDays: 30 });
  });
  afterAll(async () => {
    for (const r of runners) await r.stop();
    for (const s of servers) await s.close();
    await store?.close();
  });

  async function seed(tenant: string, n: number): Promise<Finding[]> {
    const findings = Array.from({ length: n }, (_, i) =>
      makeFinding({ tenant, title: `spike ${i}`, event_time: testTime(0, 10, i) }),
    );
    await store.client.insert('findings', findings.map(findingRow));
    return findings;
  }

  it('Splunk HEC: auth header, concatenated JSON events, retry after 503, checkpoint resume', async () => {
    const tenant = uniqueName('hec');
    const token = 'hec-token-0b7c';
    const received: Array<Record<string, unknown>> = [];
    const requests: Array<{ auth?: string; path: string; status: number }> = [];
    let busy = 1;
    const hec = Fastify();
    hec.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) =>
      done(null, body),
    );
    hec.post('/services/collector/event', async (req, reply) => {
      const auth = req.headers.authorization;
      if (auth !== `Splunk ${token}`) {
        requests.push({ auth, path: req.url, status: 403 });
        return reply.code(403).send({ text: 'Invalid token', code: 4 });
      }
      if (busy-- > 0) {
        requests.push({ auth, path: req.url, status: 503 });
        return reply.code(503).send({ text: 'Server is busy', code: 9 });
      }
      const events = concatenatedJson(req.body as string);
      received.push(...events);
      requests.push({ auth, path: req.url, status: 200 });
      return { text: 'Success', code: 0 };
    });
    servers.push(hec);
    const url = await listen(hec);

    const findings = await seed(tenant, 7);
    await store.client.insert('incidents', [incidentRow(makeIncident({ tenant, actor: 'usr_k1_inc' }))]);
    const incident = makeIncident({ tenant, actor: 'usr_k1_contained' });
    await store.client.insert('incidents', [incidentRow(incident)]);
    await store.client.insert('actions', [
      actionRow(makeAction({ tenant, incident_id: incident.incident_id })),
    ]);

    const sink = createSplunkHecSink({ url, token, index: 'vigil', name: `hec-${tenant}` });
    const options = {
      client: store.client,
      sink,
      kinds: ['finding', 'incident', 'action'] as const,
      intervalMs: 50,
      tenant,
      batchSize: 4,
      settleMs: 0,
      retry: { baseMs: 10, capMs: 50 },
    };
    const runner = await startExportSink(options);
    await waitFor(
      () => received.length,
      (n) => n >= 10,
      { what: 'HEC events' },
    );
    await runner.stop();

    expect(requests[0]).toMatchObject({ status: 503, path: '/services/collector/event' });
    expect(requests.slice(1).every((r) => r.status === 200)).toBe(true);
    // Findings in pages of 4 (4 + 3), in store order, then incidents, then the action: each once.
    expect(
      received
        .filter((e) => e.sourcetype === 'vigil:finding')
        .map((e) => (e.event as Finding).title)
        .sort(),
    ).toEqual(findings.map((f) => f.title).sort());
    expect(received).toHaveLength(10);
    for (const e of received) {
      expect(e).toMatchObject({ host: 'vigil', source: 'vigil', index: 'vigil' });
      expect(typeof e.time).toBe('number');
    }
    const action = received.find((e) => e.sourcetype === 'vigil:action')!;
    expect(action.fields).toMatchObject({ actor: 'usr_k1_contained', action_kind: 'revoke' });

    const checkpoints = await loadExportCheckpoints(store.client, sink.name);
    expect(Object.fromEntries(checkpoints.map((c) => [c.kind, c.exported]))).toEqual({
      finding: 7,
      incident: 2,
      action: 1,
    });

    // A restarted sink resumes after its checkpoint: only what is new goes out.
    const before = received.length;
    const more = await seed(tenant, 2);
    const again = await startExportSink({
      ...options,
      sink: createSplunkHecSink({ url, token, index: 'vigil', name: sink.name }),
    });
    runners.push(again);
    await waitFor(
      () => received.length,
      (n) => n >= before + 2,
      { what: 'new HEC events' },
    );
    await again.runOnce();
    expect(
      received
        .slice(before)
        .map((e) => (e.event as Finding).finding_id)
        .sort(),
    ).toEqual(more.map((f) => f.finding_id).sort());
  });

  it('Elasticsearch _bulk: NDJSON create pairs, per-item retry and rejection, 409 on redelivery', async () => {
    const tenant = uniqueName('bulk');
    const stored = new Map<string, Record<string, unknown>>();
    const bodies: string[] = [];
    let first = true;
    const es = Fastify();
    es.addContentTypeParser('application/x-ndjson', { parseAs: 'string' }, (_req, body, done) =>
      done(null, body),
    );
    es.post('/_bulk', async (req, reply) => {
      if (req.headers.authorization !== 'ApiKey a2V5OnNlY3JldA==')
        return reply.code(401).send({ error: 'no' });
      const body = req.body as string;
      bodies.push(body);
      if (!body.endsWith('\n'))
        return reply.code(400).send({
          error: {
            type: 'illegal_argument_exception',
            reason: 'The bulk request must be terminated by a newline [\\n]',
          },
        });
      const lines = body
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const items: Array<Record<string, unknown>> = [];
      for (let i = 0; i < lines.length; i += 2) {
        const meta = (lines[i] as { create: { _index: string; _id: string } }).create;
        const doc = lines[i + 1]!;
        const titleOf = (doc.rule as { description?: string } | undefined)?.description;
        let status = 201;
        let error: Record<string, string> | undefined;
        if (stored.has(meta._id)) {
          status = 409;
          error = {
            type: 'version_conflict_engine_exception',
            reason: `[${meta._id}]: version conflict, document already exists`,
          };
        } else if (titleOf === 'spike 1' && first) {
          status = 429;
          error = { type: 'es_rejected_execution_exception', reason: 'rejected execution' };
        } else if (titleOf === 'spike 2') {
          status = 400;
          error = {
            type: 'document_parsing_exception',
            reason: '[1:2] failed to parse field [event.risk_score]',
          };
        } else stored.set(meta._id, { ...doc, _index: meta._index });
        items.push({
          create: {
            _index: meta._index,
            _id: meta._id,
            status,
            ...(error ? { error } : { result: 'created' }),
          },
        });
      }
      first = false;
      return { took: 3, errors: items.some((it) => (it.create as { status: number }).status >= 300), items };
    });
    servers.push(es);
    const url = await listen(es);
    await seed(tenant, 4);

    const sink = createElasticBulkSink({ url, apiKey: 'a2V5OnNlY3JldA==', name: `es-${tenant}` });
    const runner = await startExportSink({
      client: store.client,
      sink,
      kinds: ['finding'],
      intervalMs: 50,
      tenant,
      settleMs: 0,
      retry: { baseMs: 10, capMs: 50 },
    });
    await waitFor(
      () => loadExportCheckpoints(store.client, sink.name),
      (c) => c.length === 1,
      { what: 'checkpoint' },
    );
    await runner.stop();

    expect(bodies).toHaveLength(2);
    const firstLines = bodies[0]!
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(firstLines).toHaveLength(8);
    expect(firstLines[0]).toEqual({ create: { _index: 'vigil-finding', _id: expect.any(String) } });
    expect(firstLines[1]).toMatchObject({ event: { kind: 'alert' }, labels: { tenant } });
    // The retry carries only the 429 item.
    expect(bodies[1]!.trimEnd().split('\n')).toHaveLength(2);
    expect([...stored.values()].map((d) => (d.rule as { description: string }).description).sort()).toEqual([
      'spike 0',
      'spike 1',
      'spike 3',
    ]);
    expect(runner.stats).toMatchObject({ exported: 3, rejected: 1 });
    const dead = await store.client.query<{ reason: string; row: string }>(
      'SELECT reason, row FROM dead_letters WHERE target = {t:String}',
      { t: `export:${sink.name}` },
    );
    expect(dead).toHaveLength(1);
    expect(dead[0]!.reason).toContain('document_parsing_exception');
    expect(JSON.parse(dead[0]!.row).value.title).toBe('spike 2');

    // Redelivering the same records (a lost checkpoint) stores nothing twice: 409 counts as done.
    const replay = await startExportSink({
      client: store.client,
      sink: createElasticBulkSink({ url, apiKey: 'a2V5OnNlY3JldA==', name: `es-replay-${tenant}` }),
      kinds: ['finding'],
      intervalMs: 60_000,
      tenant,
      settleMs: 0,
    });
    runners.push(replay);
    await replay.runOnce();
    expect(stored.size).toBe(3);
    expect(replay.stats.exported).toBe(3);
  });

  it('OCSF to a file: one object per line, appended', async () => {
    const tenant = uniqueName('ocsf');
    await seed(tenant, 3);
    const file = path.join(tempDataDir(), 'out', 'ocsf.ndjson');
    const runner = await startExportSink({
      client: store.client,
      sink: createOcsfFileSink({ path: file, name: `ocsf-${tenant}` }),
      kinds: ['finding'],
      intervalMs: 60_000,
      tenant,
      settleMs: 0,
    });
    runners.push(runner);
    await runner.runOnce();
    const lines = readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    expect(lines.every((o) => o.class_uid === 2004 && o.type_uid === 200401)).toBe(true);
    // Made by vigil, so its owner's only (in this process too, without the CLI's umask).
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
  });
});
