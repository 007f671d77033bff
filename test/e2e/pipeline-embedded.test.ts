// End to end on embedded defaults: generic events in over HTTP → stored → finding → incident →
// signed webhook received and its signature verified.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateWorkload } from '../../src/cli/demo/workload.js';
import { listFindings, listIncidents, summary } from '../../src/store/index.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';
import { waitFor } from '../helpers/wait.js';

describe('embedded pipeline end to end', () => {
  let v: TestVigil;
  const tenant = 'e2e-embedded';
  const workload = generateWorkload({ tenant, days: 4, people: 6, services: 2, seed: 7 });

  beforeAll(async () => {
    v = await startTestVigil();
  });
  afterAll(async () => v?.stop());

  it('detects the injected burst, opens an incident and delivers a verified webhook', async () => {
    for (let i = 0; i < workload.events.length; i += 5_000) {
      const res = await v.post(workload.events.slice(i, i + 5_000), { gzip: i % 10_000 === 0 });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { accepted: number; rejected: unknown[] };
      expect(body.rejected).toEqual([]);
    }
    // 2xx means stored: the count is exact the moment the last POST returned.
    expect((await summary(v.app.store.client, tenant)).distinct_events).toBe(workload.events.length);

    const attacker = v.app.tokenizer.token('actor', tenant, workload.attacker, 'user');
    const delivered = await waitFor(
      () => v.receiver.received,
      (r) => r.some((w) => w.verified),
      { what: 'a verified webhook', timeoutMs: 30_000 },
    );
    // The responder may deliver before the findings consumer has stored the finding.
    const findings = await waitFor(
      () => listFindings(v.app.store.client, { tenant }),
      (fs) => fs.some((f) => f.actor === attacker && f.detector === 'volume-spike'),
      { what: 'the burst finding stored' },
    );
    const burst = findings.find((f) => f.actor === attacker && f.detector === 'volume-spike');
    expect(burst).toBeDefined();
    expect(burst!.event_time).toBeGreaterThanOrEqual(workload.attackStart);
    expect(burst!.observed).toBeGreaterThan(burst!.band_high);
    expect(burst!.sentence).toContain(attacker);
    expect(burst!.sentence).toMatch(/its usual for a \w+day \d\d:00 is/);
    expect(burst!.evidence.length).toBeGreaterThan(0);
    // Only the attacker is flagged: a week of normal traffic raises nothing.
    expect(new Set(findings.map((f) => f.actor))).toEqual(new Set([attacker]));

    const incidents = await waitFor(
      () => listIncidents(v.app.store.client, { tenant }),
      (i) => i.length > 0,
      { what: 'the incident row' },
    );
    expect(incidents).toHaveLength(1);
    expect(incidents[0]!.actor).toBe(attacker);
    const hook = delivered.find((w) => w.verified)!;
    expect(hook.body).toMatchObject({
      type: 'vigil.incident',
      incident: { id: incidents[0]!.incident_id, actor: attacker },
    });
    // Raw identifiers never reach the store or the webhook.
    expect(JSON.stringify(findings) + JSON.stringify(incidents) + JSON.stringify(delivered)).not.toContain(
      '@acme.example',
    );
  });
});
