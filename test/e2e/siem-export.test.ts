// `vigil serve` with a Splunk HEC sink configured: the burst's finding and incident reach the SIEM.
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateWorkload } from '../../src/cli/demo/workload.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';
import { waitFor } from '../helpers/wait.js';

/** HEC bodies are JSON objects back to back: split them by brace depth outside strings. */
function splitConcatenatedJson(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{') {
      if (depth++ === 0) start = i;
    } else if (c === '}' && --depth === 0) out.push(text.slice(start, i + 1));
  }
  return out;
}

describe('SIEM export from a running vigil', () => {
  const received: Array<{ sourcetype?: string; event: Record<string, unknown> }> = [];
  const hec = Fastify();
  let v: TestVigil;

  beforeAll(async () => {
    hec.removeAllContentTypeParsers();
    hec.addContentTypeParser('*', { parseAs: 'string' }, (_r, body, done) => done(null, body));
    hec.post('/services/collector/event', async (req, reply) => {
      if (req.headers.authorization !== 'Splunk hec-test-token')
        return reply.code(401).send({ text: 'Invalid token', code: 2 });
      // Concatenated JSON objects, one per event.
      for (const chunk of splitConcatenatedJson(String(req.body))) received.push(JSON.parse(chunk));
      return { text: 'Success', code: 0 };
    });
    await hec.listen({ host: '127.0.0.1', port: 0 });
    v = await startTestVigil({
      env: {
        VIGIL_EXPORT_SPLUNK_URL: `http://127.0.0.1:${(hec.server.address() as AddressInfo).port}`,
        VIGIL_EXPORT_SPLUNK_TOKEN: 'hec-test-token',
        VIGIL_EXPORT_INTERVAL: '200ms',
      },
    });
  });
  afterAll(async () => {
    await v?.stop();
    await hec.close();
  });

  it('delivers findings and incidents to Splunk HEC with tokens only', async () => {
    const w = generateWorkload({ tenant: 'siem', days: 3, people: 4, services: 1, seed: 8 });
    for (let i = 0; i < w.events.length; i += 5_000)
      expect((await v.post(w.events.slice(i, i + 5_000))).status).toBe(200);
    await waitFor(
      () => received.map((r) => r.sourcetype ?? ''),
      (types) => types.some((t) => t.includes('finding')) && types.some((t) => t.includes('incident')),
      { what: 'a finding and an incident at the HEC receiver', timeoutMs: 60_000 },
    );
    expect(JSON.stringify(received)).not.toContain('@acme.example');
  }, 120_000);
});
