// End to end with a real instrumented Python client: qdrant-client (`:memory:` mode) under
// OpenLLMetry's Qdrant instrumentation, exporting with the official Python OTLP exporter
// (http/protobuf) to a running vigil. The operations run inside a server span that names the user
// (`enduser.id`); the database spans name none, as in a RAG app. What vigil stored in the events
// table is checked: operation, collection, top_k, returned, outcome, error type, and the user's
// token — never the raw user id. The venv is built by scripts/capture-spans.sh e2e-venv (the test
// command builds it first; here it is only reused, or built when missing).
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../helpers/services.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';
import { waitFor } from '../helpers/wait.js';

const run = promisify(execFile);
const ROOT = path.join(import.meta.dirname, '..', '..');
const USER = 'maria.rossi@example.com';
// A fresh install measured 190 s (scripts/capture-spans.sh bounds pip at 600 s); reused, 0.1 s.
const VENV_TIMEOUT_MS = 700_000;

interface EventRow {
  operation_raw: string;
  operation: string;
  collection: string;
  top_k: number | null;
  returned: number | null;
  outcome: string;
  error_type: string;
  actor: string;
  actor_type: string;
  identity_source: string;
  client: string;
}

describe('a real instrumented Python client (OpenLLMetry Qdrant) → vigil', () => {
  let v: TestVigil;
  let python: string;
  beforeAll(async () => {
    const venv = await run('bash', [path.join(ROOT, 'scripts', 'capture-spans.sh'), 'e2e-venv'], {
      timeout: VENV_TIMEOUT_MS,
    });
    python = venv.stdout.trim();
    v = await startTestVigil();
  }, VENV_TIMEOUT_MS + 30_000);
  afterAll(async () => v?.stop());

  it('stores every operation with its fields, attributed to the user of the server span', async () => {
    const tenant = uniqueName('otel-python');
    const script = path.join(ROOT, 'scripts', 'otel-capture', 'capture.py');
    const { stdout } = await run(
      python,
      [script, 'qdrant', '--otlp', `${v.app.otlpHttpUrl}/v1/traces`, '--tenant', tenant, '--enduser', USER],
      // The token through the environment, not the command line (visible to `ps`).
      { env: { ...process.env, VIGIL_CAPTURE_TOKEN: v.app.sourceTokens.otlp }, timeout: 120_000 },
    );
    // Eight qdrant spans (the instrumentation traces no create/delete_collection) and the server span.
    expect(JSON.parse(stdout)).toEqual({ exported: 9 });

    const rows = await waitFor(
      async () => {
        return v.app.store.client.query<EventRow>(
          `SELECT operation_raw, operation, collection, top_k, returned, outcome, error_type, actor,
                         actor_type, attributes['vigil.identity_source'] AS identity_source, client
                  FROM events WHERE tenant = {tenant:String}`,
          { tenant },
        );
      },
      (r) => r.length >= 8,
      { timeoutMs: 20_000, what: `the events of ${tenant}` },
    );

    // Spans a few microseconds apart share a stored millisecond: compared as a set of rows.
    const sorted = (r: unknown[][]) => r.map((x) => JSON.stringify(x)).sort();
    const fields = rows.map((r) => [
      r.operation_raw,
      r.operation,
      r.collection,
      r.top_k,
      r.returned,
      r.outcome,
      r.error_type,
    ]);
    // The same rows the captured fixture maps to (test/unit/collectors/otlp-vendor-capture.test.ts): the wire
    // (protobuf, the Python exporter) and the store change nothing.
    expect(sorted(fields)).toEqual(
      sorted([
        ['upsert', 'upsert', 'docs', null, null, 'allowed', ''],
        ['query_points', 'search', 'docs', 3, null, 'allowed', ''],
        ['query_points', 'search', 'docs', 10, null, 'allowed', ''],
        ['query_batch_points', 'search', 'docs', null, null, 'allowed', ''],
        ['scroll', 'scroll', 'docs', null, null, 'allowed', ''],
        ['set_payload', 'upsert', 'docs', null, null, 'allowed', ''],
        ['delete', 'delete', 'docs', null, null, 'allowed', ''],
        ['query_points', 'search', 'no_such_collection', 2, 0, 'error', 'ValueError'],
      ]),
    );

    const user = v.app.tokenizer.token('actor', tenant, USER, 'user');
    for (const r of rows) {
      expect(r.actor).toBe(user);
      expect(r.actor_type).toBe('user');
      expect(r.identity_source).toBe('ancestor');
      expect(r.client).toBe('rag-capture');
    }
    expect(JSON.stringify(rows)).not.toContain('maria');
  });
});
